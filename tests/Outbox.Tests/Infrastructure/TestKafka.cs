using Outbox.Tools.Kafka;

namespace Outbox.Tests.Infrastructure;

/// <summary>An embedded Kafka (librdkafka mock cluster, 3 brokers on 127.0.0.1) private to one test class.</summary>
public sealed class TestKafka : IDisposable
{
    public TestKafka() => Cluster = new MockKafkaCluster(brokers: 3);

    public MockKafkaCluster Cluster { get; }

    public string BootstrapServers => Cluster.BootstrapServers;

    /// <summary>Creates a uniquely named topic (replicated across the 3 brokers) and returns its name.</summary>
    public string CreateTopic(string prefix = "events", int partitions = 6)
    {
        var topic = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        Cluster.CreateTopic(topic, partitions, replicationFactor: 3);
        return topic;
    }

    public void Dispose() => Cluster.Dispose();
}
