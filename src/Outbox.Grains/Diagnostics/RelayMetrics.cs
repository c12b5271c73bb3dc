using System.Diagnostics.Metrics;

namespace Outbox.Grains.Diagnostics;

/// <summary>
/// The relay's instruments (meter "Outbox.Relay"). Names follow OpenTelemetry's messaging conventions where
/// one exists; attributes stay low-cardinality (no keys, no ids).
/// </summary>
public sealed class RelayMetrics : IDisposable
{
    /// <summary>The meter name to export (e.g. <c>metrics.AddMeter(RelayMetrics.MeterName)</c>).</summary>
    public const string MeterName = "Outbox.Relay";

    private readonly Meter _meter;

    /// <summary>Creates the instruments in the meter <see cref="MeterName"/> of <paramref name="meterFactory"/>.</summary>
    public RelayMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        Published = _meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages Kafka acknowledged");
        PublishedBytes = _meter.CreateCounter<long>("outbox.published.bytes", "By", "Payload bytes Kafka acknowledged");
        PublishFailures = _meter.CreateCounter<long>("outbox.publish.failures", "{message}", "Messages Kafka did not take, by error.type (transient/permanent)");
        // Explicit buckets: exporters' defaults are made for milliseconds and would put every sample in the first one.
        CommitToAck = _meter.CreateHistogram("outbox.commit_to_ack.duration", "s", "From enqueue (row created_at) to Kafka's acknowledgement",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        BatchSize = _meter.CreateHistogram("outbox.batch.size", "{message}", "Rows per drained batch",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] });
        DrainDuration = _meter.CreateHistogram("outbox.drain.duration", "s", "Read, publish and complete of one batch",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        Rebalances = _meter.CreateCounter<long>("outbox.rebalances", "{rebalance}", "Partition activations in this silo, each with a new ownership epoch");
    }

    /// <summary>messaging.client.sent.messages: messages Kafka acknowledged.</summary>
    public Counter<long> Published { get; }
    /// <summary>outbox.published.bytes: payload bytes Kafka acknowledged.</summary>
    public Counter<long> PublishedBytes { get; }
    /// <summary>outbox.publish.failures: messages Kafka did not take, by error.type (transient, permanent).</summary>
    public Counter<long> PublishFailures { get; }
    /// <summary>outbox.commit_to_ack.duration: seconds from enqueue to Kafka's acknowledgement.</summary>
    public Histogram<double> CommitToAck { get; }
    /// <summary>outbox.batch.size: rows per drained batch.</summary>
    public Histogram<int> BatchSize { get; }
    /// <summary>outbox.drain.duration: seconds to read, publish and complete one batch.</summary>
    public Histogram<double> DrainDuration { get; }

    /// <summary>Incremented by each partition activation in this silo (a new epoch: start, failover, rebalance).</summary>
    public Counter<long> Rebalances { get; }

    /// <summary>Disposes the meter and its instruments.</summary>
    public void Dispose() => _meter.Dispose();
}
