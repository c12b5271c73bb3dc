using System.Diagnostics.Metrics;
using Outbox.Grains.Diagnostics;

namespace Outbox.Silo.Telemetry;

/// <summary>
/// The last minutes of this silo's publishing, one slot per second (messages acknowledged, mean and max
/// commit-to-ack latency), for the status page's plot. Fed by listening to this silo's own
/// <see cref="RelayMetrics"/> instruments, so the plot and the exported metrics cannot disagree. A hosted service
/// only so that the host builds it at start: the history then covers the silo's whole life, not only the time
/// since the first page view.
/// </summary>
public sealed class PublishRateSampler : IHostedService, IDisposable
{
    /// <summary>Seconds of history kept.</summary>
    public const int Window = 600;

    private readonly Slot[] _slots = new Slot[Window];
    private readonly Lock _lock = new();
    private readonly MeterListener _listener = new();
    private readonly TimeProvider _clock;

    public PublishRateSampler(RelayMetrics metrics, TimeProvider clock)
    {
        _clock = clock;
        StartedAt = clock.GetUtcNow();
        // Other silos in the same process (tests) have their own instruments: listen to this silo's only.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument, metrics.Published) || ReferenceEquals(instrument, metrics.CommitToAck))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Add(published: value, latency: null));
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Add(published: 0, latency: value));
        _listener.Start();
    }

    /// <summary>When the history begins (the silo's start): seconds before it are unknown, not idle.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The last <paramref name="seconds"/> seconds, oldest first, ending with the current (incomplete) second.</summary>
    public IReadOnlyList<PublishSample> Recent(int seconds)
    {
        seconds = Math.Clamp(seconds, 1, Window);
        var now = _clock.GetUtcNow().ToUnixTimeSeconds();
        var samples = new PublishSample[seconds];
        lock (_lock)
        {
            for (var i = 0; i < seconds; i++)
            {
                var second = now - seconds + 1 + i;
                var slot = _slots[second % Window];
                samples[i] = slot.Second == second
                    ? new PublishSample(second, slot.Published, slot.Acks == 0 ? null : slot.LatencySum / slot.Acks * 1000, slot.Acks == 0 ? null : slot.LatencyMax * 1000)
                    : new PublishSample(second, 0, null, null);
            }
        }
        return samples;
    }

    private void Add(long published, double? latency)
    {
        var second = _clock.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            ref var slot = ref _slots[second % Window];
            if (slot.Second != second) slot = new Slot { Second = second };
            slot.Published += published;
            if (latency is { } l)
            {
                slot.Acks++;
                slot.LatencySum += l;
                slot.LatencyMax = Math.Max(slot.LatencyMax, l);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    private struct Slot
    {
        public long Second;
        public long Published;
        public long Acks;
        public double LatencySum;
        public double LatencyMax;
    }
}

/// <summary>One second of publishing: messages acknowledged and commit-to-ack latency in milliseconds (null when none).</summary>
public sealed record PublishSample(long UnixSecond, long Published, double? MeanLatencyMs, double? MaxLatencyMs);
