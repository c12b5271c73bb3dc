using System.Diagnostics;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// The steady scenario's overload: writers ask twice the steady rate (as much as they commit with no relay at all) for
/// a window while the relay runs. The backlog (rows in the outbox) and the lag (age of the oldest of them) are read at
/// the middle and the end of the window; then the writers stop and the time until the outbox is empty is measured.
/// The relay falls behind without bound when its lag keeps growing through the window: bounded means the lag at the
/// end is under a second, or no more than 1.25 times the lag at the middle (a lag growing steadily from the start
/// would double).
/// </summary>
internal static class SteadyOverload
{
    private const string Topic = "bench-steady-overload";
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(60);

    public static async Task<OverloadFigures> RunAsync(BenchEnvironment environment, int rate, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await SteadyScenario.ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        environment.CreateTopic(Topic);
        using var verifier = new DeliveryVerifier(environment.BootstrapServers, Topic);
        var workload = new OrderWorkload(environment.DataSource, Topic, settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);
        var window = TimeSpan.FromSeconds(settings.OverloadSeconds);
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        writing.CancelAfter(window);
        var started = Stopwatch.GetTimestamp();
        var run = LoadWindow.RunWritersAsync(workload, rate, settings.Writers, writing.Token, cancellationToken);
        await LoadWindow.DelayUntilAsync(started, window / 2, cancellationToken).ConfigureAwait(false);
        var middle = await BacklogAsync(environment, cancellationToken).ConfigureAwait(false);
        await run.ConfigureAwait(false);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var end = await BacklogAsync(environment, cancellationToken).ConfigureAwait(false);

        var stopped = Stopwatch.GetTimestamp();
        double? drain = null;
        while (Stopwatch.GetElapsedTime(stopped) < DrainLimit)
        {
            if ((await BacklogAsync(environment, cancellationToken).ConfigureAwait(false)).Rows == 0)
            {
                drain = Stopwatch.GetElapsedTime(stopped).TotalSeconds;
                break;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), ArrivalTimeout, cancellationToken).ConfigureAwait(false);
        SteadyScenario.Report(environment, $"overload: {workload.CommittedCount / seconds:0} tx/s, backlog {end.Rows} rows ({end.LagMs:0} ms) at the end, drained in {drain:0.0} s");
        return new OverloadFigures(rate, workload.CommittedCount / seconds, settings.OverloadSeconds, middle, end, drain, LatencySummary.Of(workload.Committed, verifier),
            missing, verifier.OutOfOrder);
    }

    private static async Task<Backlog> BacklogAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        await using var command = environment.DataSource.CreateCommand(BenchSql.OutboxLag);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new Backlog(reader.GetInt64(0), reader.GetDouble(1));
    }
}

/// <summary>Rows in the outbox, and the age of the oldest in milliseconds.</summary>
internal readonly record struct Backlog(long Rows, double LagMs);

/// <summary>What the overload window measured.</summary>
/// <param name="Drain">Seconds from the writers' stop until the outbox was empty; null when it was not within the limit.</param>
internal sealed record OverloadFigures(int Rate, double Reached, int Seconds, Backlog Middle, Backlog End, double? Drain, LatencySummary Latency, int Lost,
    long OutOfOrder)
{
    public bool Bounded => Drain is not null && (End.LagMs < 1000 || End.LagMs <= 1.25 * Middle.LagMs);
}
