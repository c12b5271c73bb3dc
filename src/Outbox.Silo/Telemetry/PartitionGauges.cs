using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Relay;

namespace Outbox.Silo.Telemetry;

/// <summary>
/// Observable gauges of the meter "Outbox.Relay" that describe the partitions this silo owns: backlog, oldest
/// pending age, parked and scheduled rows, and the number of partitions owned. The row counts come from one
/// aggregate status query every <see cref="TelemetryOptions.StatusPollInterval"/>, cached here, so scrapes and
/// exports never query the database themselves. Each silo reports only the partitions it runs, so a sum
/// across silos counts every row once.
/// </summary>
public sealed partial class PartitionGauges : BackgroundService
{
    private const string PartitionAttribute = "outbox.partition";

    private readonly OutboxClient _client;
    private readonly PartitionDirectory _directory;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private volatile Snapshot _latest = new([], DateTimeOffset.UtcNow);

    public PartitionGauges(IMeterFactory meterFactory, OutboxClient client, PartitionDirectory directory, IOptions<TelemetryOptions> options,
        ILogger<PartitionGauges> logger)
    {
        _client = client;
        _directory = directory;
        _pollInterval = options.Value.StatusPollInterval;
        _logger = logger;
        // The factory hands back the Meter RelayMetrics created (same name, no version or tags): all of the relay's
        // instruments live under one meter.
        var meter = meterFactory.Create(RelayMetrics.MeterName);
        meter.CreateObservableGauge("outbox.backlog", () => Owned(p => p.Backlog), "{message}",
            "Rows in the outbox (due, scheduled and parked) per owned partition");
        meter.CreateObservableGauge("outbox.backlog.oldest_age", ObserveOldestAge, "s",
            "Age of the oldest due, unparked row per owned partition (0 when none waits)");
        meter.CreateObservableGauge("outbox.parked.messages", () => Owned(p => p.Parked), "{message}",
            "Parked (poison) rows per owned partition; each holds back the rest of its key");
        meter.CreateObservableGauge("outbox.scheduled.messages", () => Owned(p => p.Scheduled), "{message}",
            "Rows whose deliver-at is still in the future, per owned partition");
        meter.CreateObservableGauge("outbox.partitions.owned", () => _directory.ActiveEpochs.Count, "{partition}",
            "Partitions with a running relay in this silo");
    }

    /// <summary>The last successful poll (every partition, owned here or not); empty before the first one.</summary>
    public Snapshot Latest => _latest;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_pollInterval);
        do
        {
            try
            {
                var partitions = await _client.GetStatusAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
                _latest = new Snapshot(partitions, DateTimeOffset.UtcNow);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Keep the previous snapshot: a gauge that stops moving reads better than one that drops to zero while
                // the database is away (readiness reports the outage).
                LogPollFailed(_logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private IEnumerable<Measurement<double>> ObserveOldestAge()
    {
        // The poll is a few seconds old: age the cached value by that much rather than under-report.
        var sincePoll = (DateTimeOffset.UtcNow - _latest.TakenAt).TotalSeconds;
        return Owned(p => p.OldestPendingAgeSeconds is { } age ? age + sincePoll : 0d);
    }

    private List<Measurement<T>> Owned<T>(Func<PartitionStatus, T> value) where T : struct
    {
        var owned = _directory.ActiveEpochs;
        var measurements = new List<Measurement<T>>(owned.Count);
        foreach (var partition in _latest.Partitions)
        {
            if (owned.ContainsKey(partition.Partition))
                measurements.Add(new Measurement<T>(value(partition), new KeyValuePair<string, object?>(PartitionAttribute, partition.Partition)));
        }
        return measurements;
    }

    public sealed record Snapshot(IReadOnlyList<PartitionStatus> Partitions, DateTimeOffset TakenAt);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Partition status poll failed ({Error}); gauges keep the previous values")]
    private static partial void LogPollFailed(ILogger logger, string error);
}
