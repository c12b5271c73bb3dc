using Outbox.Silo.Verification;
using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>Silos die under steady load; their partitions resume elsewhere, nothing is lost and every key keeps its order.</summary>
[Collection(ClusterTests.Name)]
public sealed class FailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly TestKafka _kafka = new();
    private SiloCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        _cluster = new SiloCluster(_db, _kafka, output);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _db.DisposeAsync();
        _kafka.Dispose();
    }

    [Fact]
    public async Task AKilledSilosPartitionsResumeElsewhereWithinTheSessionTimeoutAndNothingIsLostOrReordered()
    {
        var topic = _kafka.CreateTopic();
        var silos = await _cluster.StartAsync("silo-1", "silo-2", "silo-3");
        await _cluster.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(60));
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(_db.DataSource, topic, keys: 100, rollbackRatio: 0.1);
        await workload.CreateTablesAsync(CancellationToken.None);

        var load = workload.RunAsync(events: 5000, ratePerSecond: 250, writers: 4, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(4));
        _cluster["silo-1"].Process.Kill();
        var failover = await _cluster.WaitUntilOwnsNothingAsync("silo-1", TimeSpan.FromSeconds(60));
        _cluster.Write($"failover after SIGKILL: {failover.TotalSeconds:0.0}s (session timeout {SiloCluster.SessionTimeoutMs} ms)");
        await load;

        // Session timeout plus a few seconds for the rebalance; generous, the machine is shared.
        Assert.True(failover < TimeSpan.FromMilliseconds(SiloCluster.SessionTimeoutMs) + TimeSpan.FromSeconds(15),
            $"failover took {failover.TotalSeconds:0.0}s");
        await Delivery.AssertCompleteAndOrderedAsync(workload, verifier, _cluster, "kill");
        await _cluster.WaitForExclusiveOwnershipAsync([_cluster["silo-2"], _cluster["silo-3"]], TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RepeatedKillsAndRestartsLoseNothingAndKeepEveryKeysOrder()
    {
        var topic = _kafka.CreateTopic();
        string[] names = ["silo-1", "silo-2", "silo-3"];
        await _cluster.StartAsync(names);
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(_db.DataSource, topic, keys: 100, rollbackRatio: 0.1);
        await workload.CreateTablesAsync(CancellationToken.None);

        // 30 s of chaos: every few seconds a silo is SIGKILLed and restarted a moment later, without waiting for the
        // group to settle, so kills land in the middle of rebalances and of recoveries from the previous kill.
        var load = workload.RunAsync(events: 8000, ratePerSecond: 250, writers: 4, CancellationToken.None);
        var random = new Random(42);
        var chaosUntil = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var kills = 0;
        while (DateTime.UtcNow < chaosUntil)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(3000, 6000)));
            var victim = names[random.Next(names.Length)];
            _cluster[victim].Process.Kill();
            kills++;
            _cluster.Write($"chaos: killed {victim}");
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 2500)));
            await _cluster.LaunchAsync(victim);
        }
        await load;

        _cluster.Write($"chaos: {kills} kills in 30s");
        await Delivery.AssertCompleteAndOrderedAsync(workload, verifier, _cluster, "chaos");
        await _cluster.WaitForExclusiveOwnershipAsync(names.Select(n => _cluster[n]).ToArray(), TimeSpan.FromSeconds(60));
    }
}
