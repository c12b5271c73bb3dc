using Outbox.Tools.Verification;

namespace Outbox.Tests.Cluster;

/// <summary>The guarantees every cluster scenario ends by checking with the independent consumer.</summary>
public static class Delivery
{
    /// <summary>
    /// Every committed event arrived, no rolled-back one did, and each key's versions first arrived in order.
    /// Duplicates (a re-delivered prefix after a failover) are allowed; their count is reported.
    /// </summary>
    public static async Task AssertCompleteAndOrderedAsync(OrderWorkload workload, DeliveryVerifier verifier, SiloCluster cluster, string scenario)
    {
        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(90));
        await Task.Delay(1000); // time for anything wrongly published to show up
        cluster.Write($"{scenario}: committed={workload.Committed.Count} received={verifier.Received} distinct={verifier.Distinct} " +
                      $"duplicates={verifier.Duplicates} lost={missing} out_of_order={verifier.OutOfOrder}");
        Assert.Equal(0, missing);
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.DoesNotContain(workload.RolledBack, verifier.HasSeen);
        Assert.Equal(workload.Committed.Count, verifier.Distinct);
    }
}
