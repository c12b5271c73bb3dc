using Confluent.Kafka;
using Outbox.Grains.Publishing;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>The relay's Kafka settings as the exactly-once mode needs them.</summary>
internal static class ExactlyOnceHostFactory
{
    /// <summary>Producer properties that are about reaching the brokers, which the admin client and the progress reader need too.</summary>
    private static readonly string[] ConnectionProperties = ["security.", "sasl.", "ssl.", "socket.", "client.dns.lookup", "broker.address.family"];

    public static ExactlyOnceHost Create(KafkaOptions kafka, int outboxPartitions, string clientId)
    {
        var connection = new ClientConfig { BootstrapServers = kafka.BootstrapServers, ClientId = clientId };
        foreach (var (name, value) in kafka.Producer)
        {
            if (ConnectionProperties.Any(p => name.StartsWith(p, StringComparison.Ordinal))) connection.Set(name, value);
        }
        return new ExactlyOnceHost(connection, RelayProducerFactory.CreateConfig(kafka, clientId), outboxPartitions);
    }
}
