using Confluent.Kafka;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// Reads a partition's last committed progress record with a read-committed consumer: a transaction that was
/// aborted or never finished is invisible, so its rows are published again. Call it after the partition's
/// producer ran InitTransactions, which (on a real broker) ends a previous owner's open transaction first.
/// </summary>
internal sealed class ProgressReader(ClientConfig connection, ProgressTopic topic, TimeSpan timeout)
{
    /// <summary>How far back the first look reaches (a transaction takes two offsets: its record and its marker).</summary>
    private const long FirstWindow = 64;

    public Task<ProgressRecord?> ReadLastAsync(int partition, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => ReadLast(partition, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private ProgressRecord? ReadLast(int partition, CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig(connection)
        {
            // Never joins the group or commits: it only names the client to the brokers.
            GroupId = topic.Name + "-reader",
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
        };
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        var kafkaPartition = new TopicPartition(topic.Name, topic.KafkaPartitionOf(partition));
        var deadline = DateTime.UtcNow + timeout;
        var watermarks = consumer.QueryWatermarkOffsets(kafkaPartition, timeout);
        var key = ProgressRecord.Key(partition);
        // Compaction keeps the log short, but not its active segment: look at the end first, then further back.
        for (var window = FirstWindow; ; window *= 8)
        {
            var start = Math.Max(watermarks.Low.Value, watermarks.High.Value - window);
            if (start >= watermarks.High.Value) return null;
            consumer.Assign(new TopicPartitionOffset(kafkaPartition, start));
            byte[]? last = null;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Reading the last progress record of partition {partition} from {kafkaPartition} took longer than {timeout}.");
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null) continue;
                if (result.IsPartitionEOF) break;
                if (result.Message.Key is { } k && k.AsSpan().SequenceEqual(key)) last = result.Message.Value;
            }
            if (last is not null) return ProgressRecord.Decode(last);
            if (start == watermarks.Low.Value) return null;
        }
    }
}
