using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Outbox.Grains.Diagnostics;

namespace Outbox.Silo.Kafka;

/// <summary>
/// The small topic whose partitions stand for the outbox partitions: Kafka partition i assigned to a silo means
/// that silo owns outbox partition i. It must have exactly as many partitions as the outbox, or some outbox
/// partitions would have no owner (or several would share one), so a mismatch stops the silo at start-up.
/// </summary>
internal static partial class CoordinationTopic
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CreationVisibleWithin = TimeSpan.FromSeconds(10);

    /// <summary>Creates the topic with <paramref name="partitions"/> partitions if it is missing, then verifies its partition count.</summary>
    public static async Task EnsureAsync(ClientConfig connection, string topic, int partitions, ILogger logger, CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(connection)).Build();
        var existing = PartitionCount(admin, topic);
        if (existing is null)
        {
            await CreateAsync(admin, topic, partitions).ConfigureAwait(false);
            LogCreated(logger, topic, partitions);
            var deadline = DateTime.UtcNow + CreationVisibleWithin;
            while ((existing = PartitionCount(admin, topic)) is null && DateTime.UtcNow < deadline)
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
        if (existing != partitions)
        {
            throw new InvalidOperationException(
                $"Coordination topic '{topic}' has {existing?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} partitions but " +
                $"Outbox:PartitionCount is {partitions}. It must have exactly one partition per outbox partition: " +
                "create it with that count, or point Cluster:CoordinationTopic at another topic.");
        }
    }

    /// <summary>Partitions of the topic, or null when it does not exist. Asks for all topics, which never auto-creates one.</summary>
    private static int? PartitionCount(IAdminClient admin, string topic)
    {
        try
        {
            var metadata = admin.GetMetadata(MetadataTimeout);
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError);
            return found?.Partitions.Count;
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException($"Kafka did not answer a metadata request ({e.Error.Reason}); check Kafka:BootstrapServers.", e);
        }
    }

    private static async Task CreateAsync(IAdminClient admin, string topic, int partitions)
    {
        try
        {
            // Replication factor -1: the brokers' default.replication.factor, which operators set for the cluster.
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = -1 }])
                .ConfigureAwait(false);
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
            // Another silo created it at the same moment; its partition count is checked next.
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException(
                $"Coordination topic '{topic}' is missing and could not be created ({e.Error.Reason}); create it with {partitions} partitions.", e);
        }
    }

    [LoggerMessage(EventId = OutboxEventId.CoordinationTopicCreated, Level = LogLevel.Information, Message = "Created coordination topic {Topic} with {Partitions} partitions")]
    private static partial void LogCreated(ILogger logger, string topic, int partitions);
}
