using Confluent.Kafka;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Foundation;

/// <summary>
/// The embedded Kafka (librdkafka's mock cluster, bound by P/Invoke) and the relay's Kafka client
/// (Confluent.Kafka) run on one and the same librdkafka: the one the librdkafka.redist package ships.
/// </summary>
public sealed class NativeKafkaLibraryTests
{
    [Fact]
    public async Task TheEmbeddedKafkaAndTheClientShareTheRedistLibrdkafka()
    {
        using var kafka = new TestKafka();
        var topic = kafka.CreateTopic();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers }).Build())
        {
            var result = await producer.ProduceAsync(topic, new Message<Null, string> { Value = "one library" });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }

        // Every librdkafka image mapped into this process, by file: exactly one, from the package's native folder.
        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).Contains("librdkafka", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .Distinct()
            .ToList();
        var library = Assert.Single(mapped);
        Assert.StartsWith(Path.Combine(AppContext.BaseDirectory, "runtimes"), library, StringComparison.Ordinal);
    }
}
