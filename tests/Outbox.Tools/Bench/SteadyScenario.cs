using System.Diagnostics;
using Outbox.Grains.Relay;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Latency and cost at a load this machine carries. First the writers alone (no relay): the most business transactions
/// a second the bench's writers commit, each with its outbox event. Then the relay at half that rate: commit-to-receipt
/// latency seen by an independent consumer, where it goes (the relay's <c>outbox-stages</c> header), and the CPU of the
/// silo and of its database backends. Then (at-least-once only) the overload, twice that rate: does the relay keep up
/// or fall behind without bound (<see cref="SteadyOverload"/>); and the cost at a fixed 300 tx/s against a plain 10 ms
/// polling loop on the same load (<see cref="SteadyCost"/>).
/// </summary>
internal sealed class SteadyScenario : IBenchScenario
{
    private const string BaseTopic = "bench-steady";

    /// <summary>Asked of the writers when measuring how many they commit: more than any machine of this kind reaches.</summary>
    private const int Unlimited = 1_000_000;

    public string Name => BenchScenarios.Steady;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var mode = BenchEnvironment.ModeName(environment.Mode);
        // The writers' maximum does not depend on the relay's mode: measured once per run.
        var writersMax = earlier.OfType<SteadyResult>().FirstOrDefault()?.WritersMaxTps
                         ?? await MeasureWritersAsync(environment, cancellationToken).ConfigureAwait(false);
        var rate = settings.Rate ?? Math.Max(1, (int)(writersMax / 2));
        Report(environment, $"writers alone: {writersMax:0} tx/s; the relay runs at {rate} tx/s");

        await ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        await environment.EnsureSiloAsync(cancellationToken, stageTimestamps: true).ConfigureAwait(false);
        var topic = environment.TopicFor(BaseTopic);
        environment.CreateTopic(topic);
        var steady = await LoadWindow.RunAsync(environment.DataSource, settings, environment.BootstrapServers, topic, rate, settings.WarmUp,
            TimeSpan.FromSeconds(settings.SteadySeconds), environment.RelayCpu(), cancellationToken).ConfigureAwait(false);
        Report(environment, $"steady: {steady.Reached:0} tx/s, p50 {steady.Latency.P50Ms:0.0} ms, p99 {steady.Latency.P99Ms:0.0} ms");

        if (environment.Mode != DeliveryMode.AtLeastOnce) return new SteadyResult(mode, writersMax, settings.SteadySeconds, steady, null, null);
        var overload = await SteadyOverload.RunAsync(environment, 2 * rate, cancellationToken).ConfigureAwait(false);
        var cost = await SteadyCost.RunAsync(environment, cancellationToken).ConfigureAwait(false);
        return new SteadyResult(mode, writersMax, settings.SteadySeconds, steady, overload, cost);
    }

    /// <summary>Business transactions a second the writers commit with no relay running (the outbox only fills).</summary>
    private static async Task<double> MeasureWritersAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await environment.StopSiloAsync().ConfigureAwait(false);
        await ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        var workload = new OrderWorkload(environment.DataSource, BaseTopic + "-writers", settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);
        using var window = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        window.CancelAfter(settings.WarmUp + TimeSpan.FromSeconds(settings.WritersSeconds));
        var started = Stopwatch.GetTimestamp();
        var writing = LoadWindow.RunWritersAsync(workload, Unlimited, settings.Writers, window.Token, cancellationToken);
        await LoadWindow.DelayUntilAsync(started, settings.WarmUp, cancellationToken).ConfigureAwait(false);
        var (from, countFrom) = (Stopwatch.GetTimestamp(), workload.CommittedCount);
        await writing.ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(from).TotalSeconds;
        var rate = (workload.CommittedCount - countFrom) / seconds;
        await ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        return rate;
    }

    /// <summary>Empties the outbox, so that each window's relay starts from the same table.</summary>
    public static async Task ResetAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        await using var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages);
        await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static void Report(BenchEnvironment environment, FormattableString message) =>
        environment.Progress.WriteLine("bench: " + message.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
