using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>Silos die under steady load; their partitions resume elsewhere, nothing is lost and every key keeps its order.</summary>
[Collection(ClusterTests.Name)]
public sealed class FailoverTests(ITestOutputHelper output) : ClusterTestBase(output)
{
    [Fact]
    public async Task AKilledSilosPartitionsResumeElsewhereWithinSecondsAndNothingIsLostOrReordered()
    {
        var topic = Kafka.CreateTopic();
        var silos = await Silos.StartAsync("silo-1", "silo-2", "silo-3");
        await Silos.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(120));
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 100, rollbackRatio: 0.1);
        await workload.CreateTablesAsync(CancellationToken.None);

        var load = workload.RunAsync(events: 3000, ratePerSecond: 250, writers: 4, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Silos["silo-1"].Process.Kill();
        var failover = await Silos.WaitUntilOwnsNothingAsync("silo-1", TimeSpan.FromSeconds(60));
        Silos.Write($"failover after SIGKILL: {failover.TotalSeconds:0.0}s");
        await load;

        // Death detection (two missed 1 s probes, two votes) plus re-activation: 1-3 s on a quiet machine
        // (docs/benchmarks.md). The bound leaves room for a machine shared by several test runs.
        Assert.True(failover < TimeSpan.FromSeconds(15), $"failover took {failover.TotalSeconds:0.0}s");
        await Delivery.AssertCompleteAndOrderedAsync(workload, verifier, Silos, "kill");
        await Silos.WaitForExclusiveOwnershipAsync([Silos["silo-2"], Silos["silo-3"]], TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RepeatedKillsAndRestartsLoseNothingAndKeepEveryKeysOrder()
    {
        var topic = Kafka.CreateTopic();
        string[] names = ["silo-1", "silo-2", "silo-3"];
        await Silos.StartAsync(names);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 100, rollbackRatio: 0.1);
        await workload.CreateTablesAsync(CancellationToken.None);

        // 30 s of chaos: every few seconds a silo is SIGKILLed and restarted a moment later, without waiting for the
        // cluster to settle, so kills land in the middle of joins, failovers and recoveries from the previous kill.
        var load = workload.RunAsync(events: 5000, ratePerSecond: 250, writers: 4, CancellationToken.None);
        var random = new Random(42);
        var chaosUntil = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var kills = 0;
        while (DateTime.UtcNow < chaosUntil)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(3000, 6000)));
            var victim = names[random.Next(names.Length)];
            Silos[victim].Process.Kill();
            kills++;
            Silos.Write($"chaos: killed {victim}");
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 2500)));
            await Silos.LaunchAsync(victim);
        }
        await load;

        Silos.Write($"chaos: {kills} kills in 30s");
        await Delivery.AssertCompleteAndOrderedAsync(workload, verifier, Silos, "chaos");
        await Silos.WaitForExclusiveOwnershipAsync(names.Select(n => Silos[n]).ToArray(), TimeSpan.FromSeconds(60));
    }
}
