using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>Silos share the partitions through Orleans placement: one owner each, rebalanced as silos come and go.</summary>
[Collection(ClusterTests.Name)]
public sealed class PartitionOwnershipTests(ITestOutputHelper output) : ClusterTestBase(output)
{
    [Fact]
    public async Task EveryPartitionHasExactlyOneOwnerAndOwnershipFollowsSilosJoiningAndLeaving()
    {
        var three = await Silos.StartAsync("silo-1", "silo-2", "silo-3");
        await Silos.WaitForExclusiveOwnershipAsync(three, TimeSpan.FromSeconds(60));

        // A fourth silo joins: it is given a share, and still no partition has two owners.
        var fourth = (await Silos.StartAsync("silo-4")).Single();
        var four = three.Append(fourth).ToArray();
        await Silos.WaitForExclusiveOwnershipAsync(four, TimeSpan.FromSeconds(60));

        // One leaves in an orderly way (SIGTERM): the remaining three take over all of its partitions.
        await Silos["silo-2"].Process.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(Silos["silo-2"].Process.HasExited);
        var remaining = four.Where(m => m.Name != "silo-2").ToArray();
        await Silos.WaitForExclusiveOwnershipAsync(remaining, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("silo-2", (await Silos.OwnersAsync()).Values);
    }
}
