using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;
using Outbox.Grains.Hosting;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Diagnostics;

/// <summary>
/// Observable gauges of the meter "Outbox.Relay" that describe the partitions this silo owns: backlog, oldest
/// pending age, parked and scheduled rows, and the number of partitions owned. The row counts come from one
/// query over the owned partitions every <see cref="PartitionGaugeOptions.StatusPollInterval"/>, cached here, so
/// scrapes and exports never query the database themselves, and a cluster reads each partition once per
/// interval however many silos it has. Summed across silos, a gauge counts every row once.
/// </summary>
internal sealed partial class PartitionGauges : BackgroundService
{
    private const string PartitionAttribute = "outbox.partition";
    private static readonly string GaugesSql = SqlResource.Read(typeof(PartitionGauges).Assembly, "Sql.partition_gauges.sql");

    private readonly NpgsqlDataSource _dataSource;
    private readonly ActivePartitions _directory;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;
    private volatile Snapshot _latest = new([], DateTimeOffset.UtcNow);

    public PartitionGauges(IMeterFactory meterFactory, [FromKeyedServices(OutboxDataSources.Status)] NpgsqlDataSource dataSource,
        ActivePartitions directory, IOptions<PartitionGaugeOptions> options, ILogger<PartitionGauges> logger)
    {
        _dataSource = dataSource;
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_pollInterval);
        do
        {
            try
            {
                _latest = await PollAsync(_directory.ActiveEpochs.Keys.ToArray(), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Keep the previous snapshot: a gauge that stops moving reads better than one that drops to zero while
                // the database is away (readiness reports the outage).
                LogPollFailed(_logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task<Snapshot> PollAsync(int[] owned, CancellationToken cancellationToken)
    {
        var taken = DateTimeOffset.UtcNow;
        if (owned.Length == 0) return new Snapshot([], taken);
        await using var command = _dataSource.CreateCommand(GaugesSql);
        command.Parameters.Add(new NpgsqlParameter("partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = owned });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var partitions = new List<PartitionGauge>(owned.Length);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            partitions.Add(new PartitionGauge(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4)));
        }
        return new Snapshot(partitions, taken);
    }

    private List<Measurement<double>> ObserveOldestAge()
    {
        // The poll is a few seconds old: age the cached value by that much rather than under-report.
        var sincePoll = (DateTimeOffset.UtcNow - _latest.TakenAt).TotalSeconds;
        return Owned(p => p.OldestAgeSeconds is { } age ? age + sincePoll : 0d);
    }

    private List<Measurement<T>> Owned<T>(Func<PartitionGauge, T> value) where T : struct
    {
        // Partitions lost since the poll drop out at once; their new owner reports them.
        var owned = _directory.ActiveEpochs;
        var measurements = new List<Measurement<T>>(owned.Count);
        foreach (var partition in _latest.Partitions)
        {
            if (owned.ContainsKey(partition.Partition))
                measurements.Add(new Measurement<T>(value(partition), new KeyValuePair<string, object?>(PartitionAttribute, partition.Partition)));
        }
        return measurements;
    }

    private sealed record Snapshot(IReadOnlyList<PartitionGauge> Partitions, DateTimeOffset TakenAt);

    private sealed record PartitionGauge(int Partition, long Backlog, long Scheduled, long Parked, double? OldestAgeSeconds);

    [LoggerMessage(EventId = OutboxEventId.GaugePollFailed, Level = LogLevel.Warning, Message = "Partition gauge poll failed; gauges keep the previous values")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}
