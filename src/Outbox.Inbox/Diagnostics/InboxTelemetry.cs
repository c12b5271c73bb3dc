using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Outbox.Inbox.Diagnostics;

/// <summary>
/// The inbox's OpenTelemetry instruments (meter and activity source "Outbox.Inbox"; add both to the service's
/// OpenTelemetry set-up). Counters are added only after the database commit, so a batch retried after a
/// failure is counted once. Every instrument is tagged with the consumer group and the topic.
/// </summary>
public sealed class InboxTelemetry : IDisposable
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "Outbox.Inbox";

    internal static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _reordered;
    private readonly Counter<long> _parked;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _purged;
    private readonly Histogram<double> _batchSeconds;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<LagSource, byte> _lagSources = new();

    /// <summary>Creates the instruments on a meter of the host's <see cref="IMeterFactory"/> (a meter of its own without one).</summary>
    public InboxTelemetry(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _consumed = _meter.CreateCounter<long>("outbox.inbox.consumed", "{event}", "Events read from Kafka (copies included)");
        _applied = _meter.CreateCounter<long>("outbox.inbox.applied", "{event}", "Events whose handler committed its effect");
        _duplicates = _meter.CreateCounter<long>("outbox.inbox.duplicates", "{event}", "Copies skipped because their event id was already recorded");
        _reordered = _meter.CreateCounter<long>("outbox.inbox.reordered", "{event}", "Events that arrived below their key's position (late)");
        _parked = _meter.CreateCounter<long>("outbox.inbox.parked", "{event}", "Events parked (tag reason: failed, waiting, late)");
        _deadLettered = _meter.CreateCounter<long>("outbox.inbox.dead_lettered", "{event}", "Poison events produced to the dead-letter topic");
        _purged = _meter.CreateCounter<long>("outbox.inbox.purged", "{row}", "Expired event ids removed by retention");
        _batchSeconds = _meter.CreateHistogram<double>("outbox.inbox.batch.duration", "s", "One batch's database transaction, handlers included");
        _meter.CreateObservableGauge("outbox.inbox.lag", MeasureLag, "{event}", "Events in the Kafka partition after the last one applied");
    }

    /// <summary>Adds one consumer's partitions to the lag gauge until the returned handle is disposed.</summary>
    internal IDisposable ObserveLag(string group, Func<IEnumerable<(string Topic, int Partition, long Lag)>> lag)
    {
        var source = new LagSource(group, lag, _lagSources);
        _lagSources[source] = 0;
        return source;
    }

    private IEnumerable<Measurement<long>> MeasureLag() =>
        _lagSources.Keys.SelectMany(source => source.Lag().Select(l => new Measurement<long>(l.Lag,
            new KeyValuePair<string, object?>("consumer_group", source.Group),
            new KeyValuePair<string, object?>("topic", l.Topic),
            new KeyValuePair<string, object?>("partition", l.Partition))));

    internal void Consumed(string group, string topic) => _consumed.Add(1, Tags(group, topic));

    internal void Committed(string group, string topic, in BatchCounts counts, TimeSpan elapsed)
    {
        var tags = Tags(group, topic);
        if (counts.Applied > 0) _applied.Add(counts.Applied, tags);
        if (counts.Duplicates > 0) _duplicates.Add(counts.Duplicates, tags);
        if (counts.Late > 0) _reordered.Add(counts.Late, tags);
        if (counts.ParkedWaiting > 0) _parked.Add(counts.ParkedWaiting, [.. tags, new("reason", "waiting")]);
        if (counts.ParkedLate > 0) _parked.Add(counts.ParkedLate, [.. tags, new("reason", "late")]);
        if (counts.ParkedFailed > 0) _parked.Add(counts.ParkedFailed, [.. tags, new("reason", "failed")]);
        if (counts.DeadLettered > 0) _deadLettered.Add(counts.DeadLettered, tags);
        _batchSeconds.Record(elapsed.TotalSeconds, tags);
    }

    internal void Purged(string group, long rows) => _purged.Add(rows, new KeyValuePair<string, object?>("consumer_group", group));

    private static KeyValuePair<string, object?>[] Tags(string group, string topic) =>
        [new("consumer_group", group), new("topic", topic)];

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}

/// <summary>One consumer's contribution to the lag gauge.</summary>
internal sealed class LagSource(string group, Func<IEnumerable<(string Topic, int Partition, long Lag)>> lag,
    System.Collections.Concurrent.ConcurrentDictionary<LagSource, byte> registry) : IDisposable
{
    public string Group { get; } = group;

    public Func<IEnumerable<(string Topic, int Partition, long Lag)>> Lag { get; } = lag;

    public void Dispose() => registry.TryRemove(this, out _);
}

/// <summary>What one committed batch did, counted into the metrics after its commit.</summary>
internal struct BatchCounts
{
    public int Applied;
    public int Duplicates;
    public int Late;
    public int ParkedWaiting;
    public int ParkedLate;
    public int ParkedFailed;
    public int DeadLettered;

    public void Add(in BatchCounts other)
    {
        Applied += other.Applied;
        Duplicates += other.Duplicates;
        Late += other.Late;
        ParkedWaiting += other.ParkedWaiting;
        ParkedLate += other.ParkedLate;
        ParkedFailed += other.ParkedFailed;
        DeadLettered += other.DeadLettered;
    }
}
