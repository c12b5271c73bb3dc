using System.Globalization;
using Outbox.Tools.Commands;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the relay costs at a fixed, ordinary rate, against the cost yardstick measured in the same run on the same load:
/// the relay (its silo and its database backends) relays the writers' events for a window, then is stopped, and the
/// baseline polling loop (<see cref="BaselinePoller"/>, a child process, its backend named outbox-poller) relays the
/// same load for a window of the same length.
/// </summary>
internal static class SteadyCost
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    public static async Task<CostFigures> RunAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var window = TimeSpan.FromSeconds(settings.CostSeconds);
        await SteadyScenario.ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        await environment.EnsureSiloAsync(cancellationToken, stageTimestamps: true).ConfigureAwait(false);
        var relayTopic = $"bench-cost-relay-{settings.CostRate}";
        environment.CreateTopic(relayTopic);
        var relay = await LoadWindow.RunAsync(environment.DataSource, settings, environment.BootstrapServers, relayTopic, settings.CostRate, settings.WarmUp,
            window, environment.RelayCpu(), cancellationToken).ConfigureAwait(false);

        await environment.StopSiloAsync().ConfigureAwait(false);
        await SteadyScenario.ResetAsync(environment, cancellationToken).ConfigureAwait(false);
        var pollerTopic = $"bench-cost-poller-{settings.CostRate}";
        environment.CreateTopic(pollerTopic);
        await using var poller = await StartPollerAsync(environment, cancellationToken).ConfigureAwait(false);
        var polled = await LoadWindow.RunAsync(environment.DataSource, settings, environment.BootstrapServers, pollerTopic, settings.CostRate,
            settings.WarmUp, window, new CpuMeter(environment.DataSource, [BaselinePoller.ApplicationName], () => [poller.ProcessId]),
            cancellationToken).ConfigureAwait(false);
        SteadyScenario.Report(environment,
            $"cost at {settings.CostRate} tx/s: relay {relay.Cpu!.Total * 100:0.0}% of a core, poller {polled.Cpu!.Total * 100:0.0}%");
        return new CostFigures(settings.CostRate, settings.CostSeconds, relay, polled);
    }

    private static async Task<SiloProcess> StartPollerAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var poller = SiloProcess.StartTool("bench-poller", BenchPollerCommand.Name,
            new Dictionary<string, string> { ["db"] = environment.ConnectionString, ["bootstrap-servers"] = environment.BootstrapServers },
            line =>
            {
                if (line.EndsWith(BenchPollerCommand.ReadyLine, StringComparison.Ordinal)) ready.TrySetResult();
                else environment.Progress.WriteLine(line);
            });
        try
        {
            await ready.Task.WaitAsync(ReadyTimeout, cancellationToken).ConfigureAwait(false);
            return poller;
        }
        catch
        {
            await poller.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>The relay and the baseline poller at the same fixed rate.</summary>
internal sealed record CostFigures(int Rate, int Seconds, LoadFigures Relay, LoadFigures Poller)
{
    /// <summary>The relay's CPU (silo and backends) over the poller's (process and backend).</summary>
    public double Ratio => Relay.Cpu!.Total / Poller.Cpu!.Total;

    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=steady part=cost rate={Rate} seconds={Seconds} relay_reached={Relay.Reached:0} relay_db_cpu_pct={Relay.Cpu!.Database * 100:0.0} silo_cpu_pct={Relay.Cpu.ProcessTotal * 100:0.0} relay_cpu_pct={Relay.Cpu.Total * 100:0.0} relay_p50_ms={Relay.Latency.P50Ms:0.0} relay_p99_ms={Relay.Latency.P99Ms:0.0} poller_reached={Poller.Reached:0} poller_db_cpu_pct={Poller.Cpu!.Database * 100:0.0} poller_process_cpu_pct={Poller.Cpu.ProcessTotal * 100:0.0} poller_cpu_pct={Poller.Cpu.Total * 100:0.0} poller_p50_ms={Poller.Latency.P50Ms:0.0} poller_p99_ms={Poller.Latency.P99Ms:0.0} relay_vs_poller={Target.AtMost(Ratio, 1, "0.00")} lost={Relay.Lost + Poller.Lost}");
}
