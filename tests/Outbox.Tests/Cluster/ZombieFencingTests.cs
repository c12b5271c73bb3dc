using Outbox.Grains.Relay;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Cluster;

/// <summary>A silo frozen past its session timeout comes back as a zombie: it must notice and its late writes must be refused.</summary>
[Collection(ClusterTests.Name)]
public sealed class ZombieFencingTests(ITestOutputHelper output) : ClusterTestBase(output)
{
    [Fact]
    public async Task AFrozenSiloStopsPublishingItsOldPartitionsAndItsLateWritesAreFenced()
    {
        var topic = Kafka.CreateTopic();
        var silos = await Silos.StartAsync("silo-1", "silo-2", "silo-3");
        await Silos.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(120));
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 100, rollbackRatio: 0.1);
        await workload.CreateTablesAsync(CancellationToken.None);
        var load = workload.RunAsync(events: 4000, ratePerSecond: 250, writers: 4, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(3));

        // The zombie's holdings: each partition with the epoch it runs it under.
        var zombie = Silos["silo-1"];
        var held = new Dictionary<int, long>();
        foreach (var (partition, owner) in await Silos.OwnersAsync())
        {
            if (owner == zombie.Name) held[partition] = await Silos.EpochAsync(partition);
        }
        Assert.NotEmpty(held);

        zombie.Process.Freeze();
        var takeover = await Silos.WaitUntilOwnsNothingAsync(zombie.Name, TimeSpan.FromSeconds(60));
        Silos.Write($"frozen silo's partitions taken over after {takeover.TotalSeconds:0.0}s");
        // Declared dead within 10 s, its partitions re-activated elsewhere: with room for a loaded machine.
        Assert.True(takeover < TimeSpan.FromSeconds(20), $"takeover took {takeover.TotalSeconds:0.0}s");
        zombie.Process.Resume();

        // It learns from the membership table that it was declared dead, and stops itself (Orleans does).
        await Eventually.TrueAsync(() => Task.FromResult(zombie.Process.HasExited), TimeSpan.FromSeconds(30),
            "the resumed silo, declared dead, stopped itself");
        foreach (var (partition, epoch) in held)
            Assert.True(await Silos.EpochAsync(partition) > epoch, $"partition {partition} has a newer epoch than the zombie's {epoch}");

        // Its writes under the old epochs are refused: a batch it published before freezing cannot be completed,
        // and the row stays for the rightful owner. (The probe row is scheduled far ahead so that owner leaves it be.)
        var (fencedPartition, staleEpoch) = held.First();
        var rowId = await Db.ScalarAsync($"""
            insert into outbox.messages (partition, event_id, topic, key, payload, deliver_at)
            values ({fencedPartition}, gen_random_uuid(), 'fence-probe', 'fence-probe', '\x00', now() + interval '1 hour') returning id
            """);
        await using var completer = new RelayCompleter(Db.DataSource, Microsoft.Extensions.Options.Options.Create(new RelayOptions()));
        await Assert.ThrowsAsync<PartitionFencedException>(() =>
            completer.CompleteAsync(fencedPartition, staleEpoch, new BatchCompletion([new RowRef(rowId, null)], [], []), CancellationToken.None));
        Assert.Equal(1, await Db.ScalarAsync($"select count(*) from outbox.messages where id = {rowId}"));
        await Db.ScalarAsync($"delete from outbox.messages where id = {rowId} returning 0");

        await load;
        await Delivery.AssertCompleteAndOrderedAsync(workload, verifier, Silos, "freeze");
        // Restarted, it rejoins as a new member and gets its share back: ownership is exclusive again.
        await Silos.StartAsync(zombie.Name);
        await Silos.WaitForExclusiveOwnershipAsync(silos, TimeSpan.FromSeconds(120));
        Silos.Write($"zombie logged a fenced activation: {zombie.Logged("fenced off")}");
    }
}
