using Confluent.Kafka;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Kafka;

/// <summary>The consumer a silo uses only to take part in the ownership group; it never reads a message.</summary>
internal static class OwnershipConsumerConfig
{
    /// <summary>Kafka:Producer settings that concern the connection, not producing, and so apply here too.</summary>
    private static readonly string[] SharedPrefixes = ["security.", "sasl.", "ssl.", "client.dns."];

    /// <summary>How to reach the brokers: bootstrap servers, client id, and the security settings of Kafka:Producer.</summary>
    public static ClientConfig Connection(KafkaOptions kafka, string bootstrapServers, string siloName)
    {
        var config = new ClientConfig { BootstrapServers = bootstrapServers, ClientId = "outbox-ownership-" + siloName };
        foreach (var (name, value) in kafka.Producer)
        {
            if (SharedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) config.Set(name, value);
        }
        return config;
    }

    public static ConsumerConfig Create(ClusterOptions cluster, ClientConfig connection)
    {
        var config = new ConsumerConfig(connection)
        {
            GroupId = cluster.GroupId,
            // Incremental rebalances: a joining or leaving silo moves only the partitions that must move, and
            // the others keep draining throughout.
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = cluster.SessionTimeoutMs,
            // Heartbeats are also how members learn of a rebalance: frequent ones make failover quicker.
            HeartbeatIntervalMs = Math.Max(500, cluster.SessionTimeoutMs / 6),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Latest,
            SocketKeepaliveEnable = true,
        };
        if (!string.IsNullOrEmpty(cluster.InstanceId)) config.GroupInstanceId = cluster.InstanceId;
        return config;
    }
}
