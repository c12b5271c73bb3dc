using System.Globalization;
using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Grains.Relay;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Whether the relay's cost follows rows rather than partitions: the same cluster of silo processes on a database of
/// <see cref="BenchSettings.Partitions"/> partitions and on one of <see cref="BenchSettings.ScalePartitions"/> (the
/// partition count is fixed per database by its migrations, so each has its own), one after the other in one run.
/// For each: the CPU of the silos and of their database backends while idle (no message at all, once the partitions
/// are placed and start-up has settled), then latency and CPU under a steady load.
/// </summary>
internal sealed class ScaleScenario : IBenchScenario
{
    private static readonly TimeSpan SettleQuiet = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(180);

    public string Name => BenchScenarios.Scale;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await environment.StopSiloAsync().ConfigureAwait(false);
        var small = await MeasureAsync(environment, settings.Partitions, cancellationToken).ConfigureAwait(false);
        var large = await MeasureAsync(environment, settings.ScalePartitions, cancellationToken).ConfigureAwait(false);
        return new ScaleResult(settings.ScaleSilos, small, large);
    }

    private static async Task<ScaleFigures> MeasureAsync(BenchEnvironment environment, int partitions, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var name = $"{settings.Database}_p{partitions.ToString(CultureInfo.InvariantCulture)}";
        var connectionString = await LocalEnvironment.RecreateDatabaseAsync(settings.ConnectionString, name, cancellationToken).ConfigureAwait(false);
        try
        {
            await using var database = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
            {
                MaxPoolSize = settings.Writers + 4,
                ApplicationName = "outbox-bench",
            }.ConnectionString);
            await new OutboxMigrator(database).MigrateAsync(partitions, cancellationToken).ConfigureAwait(false);
            var topic = $"bench-scale-{partitions.ToString(CultureInfo.InvariantCulture)}";
            environment.CreateTopic(topic);

            await using var silos = await BenchSilos.StartAsync(settings, connectionString, partitions, settings.ScaleSilos, DeliveryMode.AtLeastOnce,
                stageTimestamps: true, environment.BootstrapServers, environment.Progress, cancellationToken).ConfigureAwait(false);
            await silos.WaitUntilSettledAsync(database, SettleQuiet, SettleTimeout, cancellationToken).ConfigureAwait(false);
            await Task.Delay(settings.IdleSettle, cancellationToken).ConfigureAwait(false);
            var cpu = new CpuMeter(database, CpuMeter.RelayApplications, () => silos.ProcessIds);

            var from = await cpu.SampleAsync(cancellationToken).ConfigureAwait(false);
            await Task.Delay(TimeSpan.FromSeconds(settings.ScaleSeconds), cancellationToken).ConfigureAwait(false);
            var idle = (await cpu.SampleAsync(cancellationToken).ConfigureAwait(false)).Since(from);
            environment.Progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench: scale: {partitions} partitions on {settings.ScaleSilos} silos idle: database {idle.Database * 100:0.0}%, silos {idle.ProcessTotal * 100:0.0}% of a core"));

            var loaded = await LoadWindow.RunAsync(database, settings, environment.BootstrapServers, topic, settings.ScaleRate, settings.WarmUp,
                TimeSpan.FromSeconds(settings.ScaleSeconds), cpu, cancellationToken).ConfigureAwait(false);
            if (silos.AnyExited) throw new InvalidOperationException($"A silo exited during the scale scenario ({partitions} partitions).");
            return new ScaleFigures(partitions, idle, loaded);
        }
        finally
        {
            await DropAsync(settings.ConnectionString, name, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task DropAsync(string connectionString, string name, CancellationToken cancellationToken)
    {
        await using var admin = new NpgsqlConnection(connectionString);
        await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var drop = new NpgsqlCommand($"drop database if exists {new NpgsqlCommandBuilder().QuoteIdentifier(name)} with (force)", admin);
        await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>One cluster's figures: idle CPU, and the loaded window.</summary>
internal sealed record ScaleFigures(int Partitions, CpuUse Idle, LoadFigures Loaded)
{
    /// <summary>
    /// CPU milliseconds (database backends and silos) per 1,000 messages of the loaded window: the two clusters are compared
    /// per message, since on a shared machine their writers do not reach the same rate.
    /// </summary>
    public double LoadedCpuMsPer1k => Loaded.Cpu!.Total * 1e6 / Loaded.Reached;
}

/// <summary>The scale scenario's figures: the small cluster's line, and the large one's with its ratios to the small one.</summary>
internal sealed record ScaleResult(int Silos, ScaleFigures Small, ScaleFigures Large) : BenchResult(BenchScenarios.Scale)
{
    /// <summary>Idle CPU per silo, of its database backends and of the silo process each, in percent of a core.</summary>
    public const double IdleTargetPct = 2;

    public const double RatioTarget = 1.5;

    public override bool Correct => Small.Loaded.Correct && Large.Loaded.Correct;

    public override string Line => Describe(Large, Small);

    public override IEnumerable<string> Lines => [Describe(Small, null), Describe(Large, Small)];

    private string Describe(ScaleFigures f, ScaleFigures? versus)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"bench: scenario=scale partitions={f.Partitions} silos={Silos} idle_db_cpu_pct_per_silo={Target.Below(f.Idle.Database * 100 / Silos, IdleTargetPct, "0.00")} idle_silo_cpu_pct_max={Target.Below(f.Idle.ProcessMax * 100, IdleTargetPct, "0.00")} rate={f.Loaded.Rate} reached={f.Loaded.Reached:0} loaded_db_cpu_pct={f.Loaded.Cpu!.Database * 100:0.0} loaded_silos_cpu_pct={f.Loaded.Cpu.ProcessTotal * 100:0.0} loaded_cpu_ms_per_1k={f.LoadedCpuMsPer1k:0.0}");
        if (versus is null)
            return line + string.Create(CultureInfo.InvariantCulture, $" p50_ms={f.Loaded.Latency.P50Ms:0.0} p99_ms={f.Loaded.Latency.P99Ms:0.0} lost={f.Loaded.Lost}");
        var p = versus.Partitions.ToString(CultureInfo.InvariantCulture);
        return line + string.Create(CultureInfo.InvariantCulture,
            $" loaded_cpu_vs_p{p}={Target.AtMost(f.LoadedCpuMsPer1k / versus.LoadedCpuMsPer1k, RatioTarget, "0.00")} p50_ms={f.Loaded.Latency.P50Ms:0.0} p50_vs_p{p}={Target.AtMost(f.Loaded.Latency.P50Ms / versus.Loaded.Latency.P50Ms, RatioTarget, "0.00")} p99_ms={f.Loaded.Latency.P99Ms:0.0} p99_vs_p{p}={Target.AtMost(f.Loaded.Latency.P99Ms / versus.Loaded.Latency.P99Ms, RatioTarget, "0.00")} lost={f.Loaded.Lost}");
    }

    public override IEnumerable<(string Figure, string Value)> Figures => [.. Rows(Small), .. Rows(Large)];

    private IEnumerable<(string, string)> Rows(ScaleFigures f)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"{f.Partitions} partitions, {Silos} silos: ");
        return
        [
            (label + "idle CPU: database / silos (target < 2% per silo each)",
                Invariant($"{f.Idle.Database * 100:0.00}% / {f.Idle.ProcessTotal * 100:0.00}% of a core (busiest silo {f.Idle.ProcessMax * 100:0.00}%)")),
            (label + "loaded: rate, CPU database / silos, CPU per 1,000 messages",
                Invariant($"{f.Loaded.Reached:0} tx/s, {f.Loaded.Cpu!.Database * 100:0.0}% / {f.Loaded.Cpu.ProcessTotal * 100:0.0}% of a core, {f.LoadedCpuMsPer1k:0} ms")),
            (label + "loaded: latency p50 / p99", Invariant($"{f.Loaded.Latency.P50Ms:0.0} / {f.Loaded.Latency.P99Ms:0.0} ms")),
            (label + "lost / out of order", Invariant($"{f.Loaded.Lost} / {f.Loaded.OutOfOrder}")),
        ];
    }

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
