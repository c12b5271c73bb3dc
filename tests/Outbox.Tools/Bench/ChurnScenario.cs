using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Relaying under churn: writers commit E business transactions a second for T seconds while another session holds
/// one transaction open the whole time (a snapshot and a transaction id), so vacuum can remove no row the relay
/// deleted. A relay whose reads walk the dead index entries slows down as they pile up; this compares the
/// database's time per 1,000 messages in the first and the last window of the run, and measures commit-to-receipt
/// latency throughout.
/// </summary>
internal sealed class ChurnScenario : IBenchScenario
{
    private const string Topic = "bench-churn";
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(60);

    public string Name => BenchScenarios.Churn;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        environment.CreateTopic(Topic);
        await using (var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages))
            await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await environment.EnsureSiloAsync(cancellationToken).ConfigureAwait(false);
        using var verifier = new DeliveryVerifier(environment.BootstrapServers, Topic);
        var workload = new OrderWorkload(environment.DataSource, Topic, settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);

        await using var holder = await environment.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var held = await holder.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using (var hold = new NpgsqlCommand(BenchSql.HoldSnapshot, holder, held))
            await hold.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        var window = TimeSpan.FromSeconds(Math.Min(10.0, settings.ChurnSeconds / 3.0));
        using var run = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        run.CancelAfter(TimeSpan.FromSeconds(settings.ChurnSeconds));
        var started = Stopwatch.GetTimestamp();
        var writing = workload.RunAsync(checked(settings.ChurnRate * settings.ChurnSeconds), settings.ChurnRate, settings.Writers, run.Token);
        var first = await MeasureWindowAsync(environment, workload, TimeSpan.Zero, window, started, cancellationToken).ConfigureAwait(false);
        var last = await MeasureWindowAsync(environment, workload, TimeSpan.FromSeconds(settings.ChurnSeconds) - window, window, started,
            cancellationToken).ConfigureAwait(false);
        try
        {
            await writing.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The run's time is up; transactions cut short never committed, so they are not expected in Kafka.
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), ArrivalTimeout, cancellationToken).ConfigureAwait(false);
        await held.RollbackAsync(cancellationToken).ConfigureAwait(false);
        var latency = LatencySummary.Of(workload.Committed, verifier);
        return new ChurnResult(settings.ChurnRate, settings.ChurnSeconds, workload.Committed.Count / seconds, latency, first, last, missing,
            verifier.OutOfOrder);
    }

    /// <summary>Database milliseconds per 1,000 committed messages between <paramref name="from"/> and from + <paramref name="length"/> of the run.</summary>
    private static async Task<double> MeasureWindowAsync(BenchEnvironment environment, OrderWorkload workload, TimeSpan from, TimeSpan length,
        long started, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(started, from, cancellationToken).ConfigureAwait(false);
        var (ms0, count0) = (await ActiveMsAsync(environment, cancellationToken).ConfigureAwait(false), workload.CommittedCount);
        await DelayUntilAsync(started, from + length, cancellationToken).ConfigureAwait(false);
        var (ms1, count1) = (await ActiveMsAsync(environment, cancellationToken).ConfigureAwait(false), workload.CommittedCount);
        return count1 > count0 ? (ms1 - ms0) / ((count1 - count0) / 1000.0) : double.NaN;
    }

    private static async Task DelayUntilAsync(long started, TimeSpan at, CancellationToken cancellationToken)
    {
        var wait = at - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<double> ActiveMsAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        await using var command = environment.DataSource.CreateCommand(BenchSql.DatabaseActiveMs);
        return Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }
}

/// <summary>The churn scenario's figures: latency, and database time per 1,000 messages in the last window (and the first).</summary>
internal sealed record ChurnResult(int Rate, int Seconds, double AchievedRate, LatencySummary Latency, double FirstDbMsPer1k, double LastDbMsPer1k,
    int Lost, long OutOfOrder) : BenchResult(BenchScenarios.Churn)
{
    public double Growth => FirstDbMsPer1k > 0 ? LastDbMsPer1k / FirstDbMsPer1k : double.NaN;

    public override bool Correct => Lost == 0 && OutOfOrder == 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=churn rate={Rate} seconds={Seconds} p50_ms={Latency.P50Ms:0.0} p99_ms={Latency.P99Ms:0.0} db_ms_per_1k={LastDbMsPer1k:0.0} db_ms_per_1k_first={FirstDbMsPer1k:0.0} growth={Growth:0.00} reached={AchievedRate:0} lost={Lost}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("target rate, long transaction held", Invariant($"{Rate} tx/s for {Seconds} s")),
        ("committed rate", Invariant($"{AchievedRate:0} tx/s")),
        ("latency p50 / p95 / p99 (target p99 <= 100 ms)", Invariant($"{Latency.P50Ms:0.0} / {Latency.P95Ms:0.0} / {Latency.P99Ms:0.0} ms")),
        ("db ms per 1k msgs, first / last window", Invariant($"{FirstDbMsPer1k:0.0} / {LastDbMsPer1k:0.0}")),
        ("growth (target <= 1.5)", Invariant($"{Growth:0.00}")),
        ("lost / out of order", Invariant($"{Lost} / {OutOfOrder}")),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
