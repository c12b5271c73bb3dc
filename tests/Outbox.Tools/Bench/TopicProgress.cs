using Confluent.Kafka;

namespace Outbox.Tools.Bench;

/// <summary>
/// How many messages a topic holds, from its partitions' high watermarks: a cheap way to follow a drain of a
/// million messages without consuming them (nor counting a large table over and over).
/// </summary>
internal sealed class TopicProgress : IDisposable
{
    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly TopicPartition[] _partitions;

    public TopicProgress(string bootstrapServers, string topic, int partitions)
    {
        _consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "outbox-bench-progress-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).Build();
        _partitions = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToArray();
    }

    /// <summary>Messages acknowledged into the topic so far.</summary>
    public long Messages() => _partitions.Sum(p => _consumer.QueryWatermarkOffsets(p, QueryTimeout).High.Value);

    public void Dispose() => _consumer.Dispose();
}
