using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>Silos share the partitions through the Kafka consumer group: one owner each, rebalanced as silos come and go.</summary>
[Collection(ClusterTests.Name)]
public sealed class PartitionOwnershipTests(ITestOutputHelper output) : IAsyncLifetime
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
    public async Task EveryPartitionHasExactlyOneOwnerAndOwnershipFollowsSilosJoiningAndLeaving()
    {
        var three = await _cluster.StartAsync("silo-1", "silo-2", "silo-3");
        await _cluster.WaitForExclusiveOwnershipAsync(three, TimeSpan.FromSeconds(60));

        // A fourth silo joins: it is given a share, and still no partition has two owners.
        var fourth = (await _cluster.StartAsync("silo-4")).Single();
        var four = three.Append(fourth).ToArray();
        await _cluster.WaitForExclusiveOwnershipAsync(four, TimeSpan.FromSeconds(60));

        // One leaves in an orderly way (SIGTERM): the remaining three take over all of its partitions.
        await _cluster["silo-2"].Process.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(_cluster["silo-2"].Process.HasExited);
        var remaining = four.Where(m => m.Name != "silo-2").ToArray();
        await _cluster.WaitForExclusiveOwnershipAsync(remaining, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("silo-2", (await _cluster.OwnersAsync()).Values);
    }
}
