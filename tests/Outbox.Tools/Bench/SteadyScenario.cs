using System.Diagnostics;
using System.Globalization;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Latency under a steady load: writers commit E business transactions a second (each enqueues one event)
/// for T seconds while the silo relays them (woken by its change probe); an independent consumer timestamps each event's
/// arrival, and latency is commit to receipt.
/// </summary>
internal sealed class SteadyScenario : IBenchScenario
{
    private const string BaseTopic = "bench-steady";
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(60);

    public string Name => BenchScenarios.Steady;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var topic = environment.TopicFor(BaseTopic);
        environment.CreateTopic(topic);
        await using (var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages))
            await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await environment.EnsureSiloAsync(cancellationToken).ConfigureAwait(false);
        using var verifier = new DeliveryVerifier(environment.BootstrapServers, topic);
        var workload = new OrderWorkload(environment.DataSource, topic, settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);

        var writing = await WriteForAsync(workload, settings, cancellationToken).ConfigureAwait(false);
        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), ArrivalTimeout, cancellationToken).ConfigureAwait(false);
        var latency = LatencySummary.Of(workload.Committed, verifier);
        return new SteadyResult(BenchEnvironment.ModeName(environment.Mode), settings.Rate, settings.SteadySeconds, workload.Committed.Count / writing, latency, missing,
            verifier.Duplicates, verifier.OutOfOrder);
    }

    /// <summary>
    /// Writes at the target rate for the scenario's seconds (bounded in time, so a database that cannot commit
    /// that fast shows as a lower committed rate rather than a longer run); returns the seconds it wrote.
    /// </summary>
    private static async Task<double> WriteForAsync(OrderWorkload workload, BenchSettings settings, CancellationToken cancellationToken)
    {
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(TimeSpan.FromSeconds(settings.SteadySeconds));
        var started = Stopwatch.GetTimestamp();
        try
        {
            await workload.RunAsync(checked(settings.Rate * settings.SteadySeconds), settings.Rate, settings.Writers, window.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (window.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The window closed; transactions cut short were never committed, so they are not expected in Kafka.
        }
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}

/// <summary>The steady scenario's figures.</summary>
internal sealed record SteadyResult(string Mode, int Rate, int Seconds, double AchievedRate, LatencySummary Latency, int Lost, long Duplicates, long OutOfOrder)
    : BenchResult(BenchScenarios.Steady)
{
    public override bool Correct => Lost == 0 && OutOfOrder == 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=steady mode={Mode} rate={Rate} reached={AchievedRate:0} seconds={Seconds} p50_ms={Latency.P50Ms:0.0} p95_ms={Latency.P95Ms:0.0} p99_ms={Latency.P99Ms:0.0} max_ms={Latency.MaxMs:0.0} lost={Lost}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("mode", Mode),
        ("target rate", Invariant($"{Rate} tx/s for {Seconds} s")),
        ("committed rate", Invariant($"{AchievedRate:0} tx/s")),
        ("latency p50 / p95 / p99", Invariant($"{Latency.P50Ms:0.0} / {Latency.P95Ms:0.0} / {Latency.P99Ms:0.0} ms")),
        ("latency max", Invariant($"{Latency.MaxMs:0.0} ms")),
        ("lost / duplicates / out of order", Invariant($"{Lost} / {Duplicates} / {OutOfOrder}")),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
