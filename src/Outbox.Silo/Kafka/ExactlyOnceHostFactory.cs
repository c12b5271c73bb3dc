using Confluent.Kafka;
using Outbox.Grains;
using Outbox.Grains.ExactlyOnce;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Kafka;

/// <summary>The silo's Kafka settings as the exactly-once mode needs them.</summary>
public static class ExactlyOnceHostFactory
{
    /// <summary>Producer properties that are about reaching the brokers, which the admin client and the progress reader need too.</summary>
    private static readonly string[] ConnectionProperties = ["security.", "sasl.", "ssl.", "socket.", "client.dns.lookup", "broker.address.family"];

    public static ExactlyOnceHost Create(KafkaOptions kafka, OutboxOptions outbox, SiloIdentity identity)
    {
        var clientId = "outbox-relay-" + identity.Name;
        var connection = new ClientConfig { BootstrapServers = kafka.BootstrapServers, ClientId = clientId };
        foreach (var (name, value) in kafka.Producer)
        {
            if (ConnectionProperties.Any(p => name.StartsWith(p, StringComparison.Ordinal))) connection.Set(name, value);
        }
        return new ExactlyOnceHost(connection, RelayProducerFactory.CreateConfig(kafka, kafka.BootstrapServers, clientId), outbox.PartitionCount);
    }
}
