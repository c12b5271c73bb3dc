using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Inbox;

/// <summary>
/// Order events produced straight to Kafka as the relay publishes them (outbox-event-id, outbox-sequence,
/// outbox-partition, the key's version header), so a test or the benchmark controls copies, sequences and order.
/// </summary>
public static class LedgerEvents
{
    /// <summary>One event: its key, the key's version (1..n), its outbox sequence and its id.</summary>
    public sealed record OrderEvent(string Key, long Version, long Sequence, Guid EventId)
    {
        public static OrderEvent Of(string key, long version, long sequence) => new(key, version, sequence, Guid.NewGuid());
    }

    /// <summary>Versions 1..<paramref name="versions"/> of <paramref name="keys"/> keys, sequences rising in that order.</summary>
    public static List<OrderEvent> Create(int keys, int versions, string prefix = "order")
    {
        var events = new List<OrderEvent>(keys * versions);
        long sequence = 0;
        for (var v = 1; v <= versions; v++)
            for (var k = 0; k < keys; k++) events.Add(OrderEvent.Of($"{prefix}-{k}", v, ++sequence));
        return events;
    }

    public static async Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<OrderEvent> events)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();
        foreach (var e in events)
        {
            var message = new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes(e.Key),
                Value = Encoding.UTF8.GetBytes($$"""{"order":"{{e.Key}}","version":{{e.Version}}}"""),
                Headers = new Headers
                {
                    { "outbox-event-id", Encoding.UTF8.GetBytes(e.EventId.ToString()) },
                    { "outbox-partition", "7"u8.ToArray() },
                    { "outbox-sequence", Encoding.UTF8.GetBytes(e.Sequence.ToString(CultureInfo.InvariantCulture)) },
                    { "outbox-event-type", "order-changed"u8.ToArray() },
                    { DeliveryVerifier.VersionHeader, Encoding.UTF8.GetBytes(e.Version.ToString(CultureInfo.InvariantCulture)) },
                },
            };
            while (true)
            {
                try
                {
                    producer.Produce(topic, message);
                    break;
                }
                catch (ProduceException<byte[], byte[]> full) when (full.Error.Code == Confluent.Kafka.ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }
        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60))).ConfigureAwait(false);
    }
}
