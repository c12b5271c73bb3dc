using Microsoft.Extensions.Options;
using Outbox.Silo.Hosting;

namespace Outbox.Silo.Kafka;

/// <summary>
/// Resolves Kafka:BootstrapServers. When it is "embedded", a mock cluster is started inside this silo
/// (development on a laptop without Kafka); otherwise the configured servers are used as they are.
/// </summary>
public sealed class EmbeddedKafka : IDisposable
{
    private readonly MockKafkaCluster? _cluster;

    public EmbeddedKafka(IOptions<KafkaOptions> options)
    {
        if (options.Value.BootstrapServers == KafkaOptions.Embedded)
        {
            _cluster = new MockKafkaCluster(brokers: 3);
            BootstrapServers = _cluster.BootstrapServers;
        }
        else
        {
            BootstrapServers = options.Value.BootstrapServers;
        }
    }

    public string BootstrapServers { get; }

    public void Dispose() => _cluster?.Dispose();
}
