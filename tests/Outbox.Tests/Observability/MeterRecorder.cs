using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Outbox.Grains.Diagnostics;

namespace Outbox.Tests.Observability;

/// <summary>
/// Records what one silo's "Outbox.Relay" instruments report, in-process: counter sums, histogram sample
/// counts, and the latest value of each observable gauge per partition. Other silos of the test process
/// (other test classes run in parallel) have their own meter factory and are ignored.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _sums = new();
    private readonly ConcurrentDictionary<string, long> _samples = new();
    private readonly ConcurrentDictionary<(string Instrument, int? Partition), double> _observed = new();

    public MeterRecorder(IMeterFactory siloMeterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RelayMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, siloMeterFactory))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public double Sum(string instrument) => _sums.GetValueOrDefault(instrument);

    public long Samples(string instrument) => _samples.GetValueOrDefault(instrument);

    /// <summary>Polls the observable gauges now and returns <paramref name="instrument"/>'s value per partition.</summary>
    public Dictionary<int, double> ObservePerPartition(string instrument)
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
        return _observed.Where(kv => kv.Key.Instrument == instrument && kv.Key.Partition is not null)
            .ToDictionary(kv => kv.Key.Partition!.Value, kv => kv.Value);
    }

    /// <summary>Polls the observable gauges now and returns the value of an instrument without attributes.</summary>
    public double? Observe(string instrument)
    {
        _observed.Clear();
        _listener.RecordObservableInstruments();
        return _observed.TryGetValue((instrument, null), out var value) ? value : null;
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (instrument.IsObservable)
        {
            int? partition = null;
            foreach (var tag in tags)
                if (tag.Key == "outbox.partition") partition = Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
            _observed[(instrument.Name, partition)] = value;
            return;
        }
        _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
        _samples.AddOrUpdate(instrument.Name, 1, (_, count) => count + 1);
    }

    public void Dispose() => _listener.Dispose();
}
