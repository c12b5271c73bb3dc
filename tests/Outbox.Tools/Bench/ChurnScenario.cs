using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Relaying under churn while one transaction stays open the whole time, in two variants: one that inserted a row into
/// outbox.messages (a business transaction left idle after its enqueue), and one that holds a transaction id and only
/// read outbox.messages (a report). Either way vacuum can remove no row the relay deleted, and a relay that waits for
/// such transactions, or whose reads walk what they keep, slows down as the run goes on. Writers commit E business
/// transactions a second for T seconds; the database's time per 1,000 messages (all sessions' active time) and the
/// relay's backends' CPU per 1,000 are compared between the first and the last window, and commit-to-receipt latency
/// is measured throughout.
/// </summary>
internal sealed class ChurnScenario : IBenchScenario
{
    private const string Topic = "bench-churn";
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(60);

    public string Name => BenchScenarios.Churn;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var variants = new List<ChurnFigures>();
        foreach (var (variant, sql) in new[] { ("inserted", BenchSql.HoldInserted), ("read", BenchSql.HoldRead) })
            variants.Add(await RunVariantAsync(environment, variant, sql, cancellationToken).ConfigureAwait(false));
        return new ChurnResult(environment.Settings.ChurnRate, environment.Settings.ChurnSeconds, variants);
    }

    private static async Task<ChurnFigures> RunVariantAsync(BenchEnvironment environment, string variant, string holdSql, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var topic = $"{Topic}-{variant}";
        environment.CreateTopic(topic);
        await using (var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages))
            await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await environment.EnsureSiloAsync(cancellationToken).ConfigureAwait(false);
        using var verifier = new DeliveryVerifier(environment.BootstrapServers, topic);
        var workload = new OrderWorkload(environment.DataSource, topic, settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);

        await using var holder = await environment.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var held = await holder.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var hold = new NpgsqlCommand(holdSql, holder, held))
        {
            hold.Parameters.AddWithValue("topic", topic);
            await hold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var length = TimeSpan.FromSeconds(settings.ChurnSeconds);
        var window = TimeSpan.FromSeconds(Math.Min(10.0, settings.ChurnSeconds / 3.0));
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        run.CancelAfter(length);
        var started = Stopwatch.GetTimestamp();
        var writing = LoadWindow.RunWritersAsync(workload, settings.ChurnRate, settings.Writers, run.Token, cancellationToken);
        var cpu = environment.RelayCpu();
        var first = await MeasureWindowAsync(environment, workload, cpu, started, TimeSpan.Zero, window, cancellationToken).ConfigureAwait(false);
        var last = await MeasureWindowAsync(environment, workload, cpu, started, length - window, window, cancellationToken).ConfigureAwait(false);
        await writing.ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), ArrivalTimeout, cancellationToken).ConfigureAwait(false);
        await held.RollbackAsync(cancellationToken).ConfigureAwait(false);
        return new ChurnFigures(variant, workload.Committed.Count / seconds, LatencySummary.Of(workload.Committed, verifier),
            first with { P99Ms = P99(workload, verifier, first) }, last with { P99Ms = P99(workload, verifier, last) }, missing, verifier.OutOfOrder);
    }

    /// <summary>Database and relay time per 1,000 messages committed between <paramref name="from"/> and from + <paramref name="length"/> of the run.</summary>
    private static async Task<ChurnWindow> MeasureWindowAsync(BenchEnvironment environment, OrderWorkload workload, CpuMeter cpu, long started, TimeSpan from,
        TimeSpan length, CancellationToken cancellationToken)
    {
        await LoadWindow.DelayUntilAsync(started, from, cancellationToken).ConfigureAwait(false);
        var (at0, ms0, cpu0, count0) = (Stopwatch.GetTimestamp(), await ActiveMsAsync(environment, cancellationToken).ConfigureAwait(false),
            await cpu.SampleAsync(cancellationToken).ConfigureAwait(false), workload.CommittedCount);
        await LoadWindow.DelayUntilAsync(started, from + length, cancellationToken).ConfigureAwait(false);
        var (at1, ms1, cpu1, count1) = (Stopwatch.GetTimestamp(), await ActiveMsAsync(environment, cancellationToken).ConfigureAwait(false),
            await cpu.SampleAsync(cancellationToken).ConfigureAwait(false), workload.CommittedCount);
        var thousands = (count1 - count0) / 1000.0;
        var relay = cpu1.Since(cpu0);
        return thousands > 0
            ? new ChurnWindow(at0, at1, (ms1 - ms0) / thousands, relay.Database * relay.Seconds * 1000 / thousands, double.NaN)
            : new ChurnWindow(at0, at1, double.NaN, double.NaN, double.NaN);
    }

    private static double P99(OrderWorkload workload, DeliveryVerifier verifier, ChurnWindow window) =>
        LatencySummary.Of(workload.Committed.Where(c => c.Value >= window.From && c.Value <= window.To).ToDictionary(), verifier).P99Ms;

    private static async Task<double> ActiveMsAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        await using var command = environment.DataSource.CreateCommand(BenchSql.DatabaseActiveMs);
        return Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}

/// <summary>One window of a churn run (Stopwatch timestamps): database and relay-backend milliseconds per 1,000 messages, and p99.</summary>
internal sealed record ChurnWindow(long From, long To, double DbMsPer1k, double RelayDbMsPer1k, double P99Ms);

/// <summary>One variant's figures: the first and the last window of the run.</summary>
internal sealed record ChurnFigures(string Variant, double AchievedRate, LatencySummary Latency, ChurnWindow First, ChurnWindow Last, int Lost, long OutOfOrder)
{
    public double Growth => Last.DbMsPer1k / First.DbMsPer1k;

    public double RelayGrowth => Last.RelayDbMsPer1k / First.RelayDbMsPer1k;

    public double P99Growth => Last.P99Ms / First.P99Ms;
}
