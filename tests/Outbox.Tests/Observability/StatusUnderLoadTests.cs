using System.Diagnostics;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Observability;

/// <summary>
/// GET /status is unauthenticated and aggregates over the backlog: clients hammering it must not take the relay's
/// connections, nor make the silo look unready. Its queries run on a pool of their own (application_name
/// outbox-status), at most one refresh at a time, and while sixteen clients poll it without pause the publish rate
/// holds and readiness stays green.
/// </summary>
public sealed class StatusUnderLoadTests(ITestOutputHelper output) : RelayTestBase
{
    private const int Rows = 20_000;

    [Fact]
    public async Task ThePublishRateHoldsWhileClientsHammerStatus()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);

        var quiet = await DrainAsync(verifier, topic, "quiet");

        using var stop = new CancellationTokenSource();
        var statusCalls = 0;
        var hammer = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            using var http = silo.Http(withToken: false);
            while (!stop.IsCancellationRequested)
            {
                using var response = await http.GetAsync(new Uri("/status", UriKind.Relative), CancellationToken.None);
                Assert.True(response.IsSuccessStatusCode, $"/status answered {response.StatusCode}");
                Interlocked.Increment(ref statusCalls);
            }
        })).ToArray();
        var relayRanStatus = SampleRelayConnectionsRunningStatusAsync(stop.Token);
        var readiness = SampleReadinessAsync(silo, stop.Token);
        var hammered = await DrainAsync(verifier, topic, "hammered");
        await stop.CancelAsync();
        await Task.WhenAll(hammer);
        var statusOnRelayPool = await relayRanStatus;
        var (probes, unready) = await readiness;

        output.WriteLine($"status: {Rows} rows drained in {quiet.TotalSeconds:0.0} s quiet, {hammered.TotalSeconds:0.0} s under {statusCalls} /status calls");
        Assert.True(statusCalls > 100, $"only {statusCalls} /status calls were made");
        Assert.True(statusOnRelayPool == 0, $"the status aggregation ran {statusOnRelayPool} time(s) on the relay's own connections");
        Assert.True(probes > 10, $"only {probes} readiness probes were made");
        Assert.True(unready == 0, $"{unready} of {probes} readiness probes failed while clients hammered /status");
        Assert.True(hammered < quiet * 1.5 + TimeSpan.FromSeconds(3), $"the drain took {hammered} under /status load against {quiet} without");
    }

    private async Task<TimeSpan> DrainAsync(DeliveryVerifier verifier, string topic, string prefix)
    {
        var events = await Preload.EventsAsync(Db, topic, keys: 200, versionsPerKey: Rows / 200, keyPrefix: prefix);
        var started = Stopwatch.StartNew();
        var missing = await verifier.WaitForAsync(events, TimeSpan.FromSeconds(120));
        Assert.True(missing == 0, $"{missing} events of the {prefix} phase were not published");
        return started.Elapsed;
    }

    /// <summary>Probes readiness every 100 ms (as an orchestrator would, with its own short timeout); returns probes and failures.</summary>
    private static async Task<(int Probes, int Unready)> SampleReadinessAsync(TestSilo silo, CancellationToken stop)
    {
        using var http = silo.Http(withToken: false);
        http.Timeout = TimeSpan.FromSeconds(3);
        var (probes, unready) = (0, 0);
        while (!stop.IsCancellationRequested)
        {
            probes++;
            try
            {
                using var response = await http.GetAsync(new Uri("/health/ready", UriKind.Relative), CancellationToken.None);
                if (!response.IsSuccessStatusCode) unready++;
            }
            catch (TaskCanceledException)
            {
                unready++;
            }
            await Task.Delay(100, CancellationToken.None);
        }
        return (probes, unready);
    }

    /// <summary>How often pg_stat_activity shows the status aggregation on a connection of the relay's pool.</summary>
    private async Task<int> SampleRelayConnectionsRunningStatusAsync(CancellationToken stop)
    {
        var seen = 0;
        while (!stop.IsCancellationRequested)
        {
            seen += (int)await Db.ScalarAsync("""
                select count(*) from pg_stat_activity
                where application_name = 'outbox-relay' and state = 'active' and query like '%left join lateral%'
                """);
            await Task.Delay(20, CancellationToken.None);
        }
        return seen;
    }
}
