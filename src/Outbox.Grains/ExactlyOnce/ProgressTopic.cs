using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// The compacted topic of progress records. Outbox partition p writes to Kafka partition p, so each Kafka
/// partition holds one key and its last stable offset is never held back by another partition's open
/// transaction: reading a partition's last record stays a short read at the end of its own log.
/// </summary>
internal sealed partial class ProgressTopic
{
    private ProgressTopic(string name, int partitions)
    {
        Name = name;
        Partitions = partitions;
    }

    public string Name { get; }

    /// <summary>Kafka partitions of the topic: at least the outbox's partition count.</summary>
    public int Partitions { get; }

    public int KafkaPartitionOf(int outboxPartition) => outboxPartition % Partitions;

    /// <summary>
    /// Finds the topic, creating it (cleanup.policy=compact, one Kafka partition per outbox partition, the
    /// brokers' default replication) if it is missing. Fails with a message naming the topic and the fix when it
    /// cannot be created or has too few partitions.
    /// </summary>
    public static async Task<ProgressTopic> EnsureAsync(ClientConfig connection, ExactlyOnceOptions options, int outboxPartitions, ILogger logger,
        CancellationToken cancellationToken)
    {
        var name = options.ProgressTopic;
        using var admin = new AdminClientBuilder(new AdminClientConfig(connection)).Build();
        var partitions = await PartitionCountAsync(admin, name, options.AdminTimeout, cancellationToken).ConfigureAwait(false);
        if (partitions is null)
        {
            await CreateAsync(admin, name, outboxPartitions, options.AdminTimeout).ConfigureAwait(false);
            LogCreated(logger, name, outboxPartitions);
            // A new topic reaches every broker's metadata shortly after its creation is acknowledged.
            var deadline = DateTime.UtcNow + options.AdminTimeout;
            while ((partitions = await PartitionCountAsync(admin, name, options.AdminTimeout, cancellationToken).ConfigureAwait(false)) is null)
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"The progress topic '{name}' was created but is not in Kafka's metadata after {options.AdminTimeout}.");
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
        if (partitions < outboxPartitions)
        {
            throw new InvalidOperationException(
                $"The progress topic '{name}' has {partitions} partition(s); exactly-once delivery needs at least {outboxPartitions} (one per outbox " +
                $"partition). Add partitions to it (kafka-topics --alter --partitions {outboxPartitions}) or set {ExactlyOnceOptions.Section}:" +
                $"{nameof(ExactlyOnceOptions.ProgressTopic)} to a new name.");
        }
        return new ProgressTopic(name, partitions.Value);
    }

    /// <summary>Reads the whole cluster's metadata: asking for one topic by name would auto-create it, uncompacted, on many brokers.</summary>
    private static Task<int?> PartitionCountAsync(IAdminClient admin, string name, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var topic = admin.GetMetadata(timeout).Topics.FirstOrDefault(t => t.Topic == name && t.Error.Code == ErrorCode.NoError);
            return topic is null ? (int?)null : topic.Partitions.Count;
        }, cancellationToken);

    private static async Task CreateAsync(IAdminClient admin, string name, int partitions, TimeSpan timeout)
    {
        var specification = new TopicSpecification
        {
            Name = name,
            NumPartitions = partitions,
            ReplicationFactor = -1,
            Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
        };
        try
        {
            await admin.CreateTopicsAsync([specification], new CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout })
                .ConfigureAwait(false);
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Another silo created it first.
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException(
                $"The progress topic '{name}' does not exist and could not be created ({partitions} partitions, cleanup.policy=compact): " +
                $"{e.Error.Code}: {e.Error.Reason}. Create it so, or allow the relay's Kafka principal to create topics.", e);
        }
    }

    [LoggerMessage(EventId = OutboxEventId.ProgressTopicCreated, Level = LogLevel.Information, Message = "Created the compacted progress topic {Topic} with {Partitions} partitions")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions);
}
