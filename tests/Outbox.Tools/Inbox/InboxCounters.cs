using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Outbox.Inbox.Diagnostics;

namespace Outbox.Tools.Inbox;

/// <summary>
/// Sums the inbox's counters (meter "Outbox.Inbox") of one consumer group in this process, e.g.
/// "outbox.inbox.duplicates": what a consumer hosted in-process reports, as its dashboards would show it.
/// </summary>
public sealed class InboxCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _sums = new();

    public InboxCounters(string group)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == InboxTelemetry.Name && !instrument.IsObservable) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "consumer_group", Value: string g } && g == group) _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
            }
        });
        _listener.Start();
    }

    public long this[string instrument] => _sums.GetValueOrDefault(instrument);

    public void Dispose() => _listener.Dispose();
}
