using System.Diagnostics;
using Npgsql;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// One measured window of steady load, the unit the steady and scale scenarios are made of: <c>OrderWorkload</c>
/// writers commit business transactions (one event each) at a rate, an independent consumer timestamps each event's
/// arrival, and whatever relays them (silos, or the baseline poller) has its CPU sampled at the start and the end of
/// the window. A warm-up before the window lets the relay reach its steady state (a fresh process JIT-compiles its
/// path); latency counts only the events committed within the window.
/// </summary>
internal static class LoadWindow
{
    private static readonly TimeSpan ArrivalTimeout = TimeSpan.FromSeconds(60);

    /// <param name="writers">The writers' database (the bench's own pool).</param>
    /// <param name="topic">A topic of its own (created by the caller), so the consumer reads only this window's events.</param>
    /// <param name="cpu">What to measure the CPU of, or null.</param>
    public static async Task<LoadFigures> RunAsync(NpgsqlDataSource writers, BenchSettings settings, string bootstrapServers, string topic, int rate,
        TimeSpan warmUp, TimeSpan window, CpuMeter? cpu, CancellationToken cancellationToken)
    {
        using var verifier = new DeliveryVerifier(bootstrapServers, topic);
        var workload = new OrderWorkload(writers, topic, settings.Keys, rollbackRatio: 0);
        await workload.CreateTablesAsync(cancellationToken).ConfigureAwait(false);

        using var writing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        writing.CancelAfter(warmUp + window);
        var started = Stopwatch.GetTimestamp();
        var run = RunWritersAsync(workload, rate, settings.Writers, writing.Token, cancellationToken);
        await DelayUntilAsync(started, warmUp, cancellationToken).ConfigureAwait(false);
        var (from, cpuFrom, countFrom) = (Stopwatch.GetTimestamp(), cpu is null ? null : await cpu.SampleAsync(cancellationToken).ConfigureAwait(false),
            workload.CommittedCount);
        await DelayUntilAsync(started, warmUp + window, cancellationToken).ConfigureAwait(false);
        var (to, cpuTo, countTo) = (Stopwatch.GetTimestamp(), cpu is null ? null : await cpu.SampleAsync(cancellationToken).ConfigureAwait(false),
            workload.CommittedCount);
        await run.ConfigureAwait(false);

        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), ArrivalTimeout, cancellationToken).ConfigureAwait(false);
        var inWindow = workload.Committed.Where(c => c.Value >= from && c.Value <= to).ToDictionary();
        var inWindowMicros = workload.CommittedMicros.Where(c => inWindow.ContainsKey(c.Key)).ToDictionary();
        return new LoadFigures(rate, (countTo - countFrom) / ((to - from) / (double)Stopwatch.Frequency), LatencySummary.Of(inWindow, verifier),
            StageBreakdown.Of(inWindowMicros, verifier), cpuTo?.Since(cpuFrom!), missing, verifier.Duplicates, verifier.OutOfOrder);
    }

    /// <summary>
    /// Runs the writers until <paramref name="window"/> is cancelled: transactions cut short then were never committed, so
    /// they are not expected in Kafka.
    /// </summary>
    public static async Task RunWritersAsync(OrderWorkload workload, int rate, int writers, CancellationToken window, CancellationToken cancellationToken)
    {
        try
        {
            await workload.RunAsync(int.MaxValue, rate, writers, window).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (window.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The window closed.
        }
    }

    public static async Task DelayUntilAsync(long started, TimeSpan at, CancellationToken cancellationToken)
    {
        var wait = at - Stopwatch.GetElapsedTime(started);
        if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>What one load window measured.</summary>
/// <param name="Rate">Business transactions a second asked for.</param>
/// <param name="Reached">Committed within the window, per second.</param>
/// <param name="Cpu">CPU of the relay (or poller) and its database backends within the window, if measured.</param>
internal sealed record LoadFigures(int Rate, double Reached, LatencySummary Latency, StageBreakdown Stages, CpuUse? Cpu, int Lost, long Duplicates,
    long OutOfOrder)
{
    public bool Correct => Lost == 0 && OutOfOrder == 0;
}
