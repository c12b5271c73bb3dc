using System.Diagnostics.Metrics;

namespace Outbox.Grains.Diagnostics;

/// <summary>
/// The relay's instruments (meter "Outbox.Relay"). Names follow OpenTelemetry's messaging conventions where
/// one exists; attributes stay low-cardinality (no keys, no ids).
/// </summary>
public sealed class RelayMetrics : IDisposable
{
    public const string MeterName = "Outbox.Relay";

    private readonly Meter _meter;

    public RelayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        Published = _meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages Kafka acknowledged");
        PublishedBytes = _meter.CreateCounter<long>("outbox.published.bytes", "By", "Payload bytes Kafka acknowledged");
        PublishFailures = _meter.CreateCounter<long>("outbox.publish.failures", "{message}", "Messages Kafka did not take, by error.type (transient/permanent)");
        CommitToAck = _meter.CreateHistogram<double>("outbox.commit_to_ack.duration", "s", "From enqueue (row created_at) to Kafka's acknowledgement");
        BatchSize = _meter.CreateHistogram<int>("outbox.batch.size", "{message}", "Rows per drained batch");
        DrainDuration = _meter.CreateHistogram<double>("outbox.drain.duration", "s", "Read, publish and complete of one batch");
        Rebalances = _meter.CreateCounter<long>("outbox.rebalances", "{rebalance}", "Ownership changes this silo took part in (assignments received)");
    }

    public Counter<long> Published { get; }
    public Counter<long> PublishedBytes { get; }
    public Counter<long> PublishFailures { get; }
    public Histogram<double> CommitToAck { get; }
    public Histogram<int> BatchSize { get; }
    public Histogram<double> DrainDuration { get; }

    /// <summary>Incremented by the ownership engine each time this silo's assignment changes (including the first one).</summary>
    public Counter<long> Rebalances { get; }

    public void Dispose() => _meter.Dispose();
}
