using System.Globalization;
using Outbox.Contracts;
using Outbox.Grains;
using Outbox.Tests.Infrastructure;
using Outbox.Tests.Operations;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Grains;

/// <summary>The partition grain on an Orleans TestingHost cluster: epochs, placement, routing of drains, fencing, reminders.</summary>
public sealed class PartitionGrainTests : RelayTestBase
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EveryPartitionIsActiveOnceUnderTheEpochItTookAndSpreadEvenly()
    {
        await using var cluster = await GrainCluster.StartAsync(Db, Kafka, silos: 2, sweep: TimeSpan.FromSeconds(1));
        // Settled can come a moment before spread even: a partition placed before the second silo joined hands itself
        // over at its keeper's next ping.
        await Eventually.TrueAsync(async () => await GrainCluster.SettledAsync(cluster, Db)
                && GrainCluster.Active(cluster).Values.All(a => a.Count == TestDatabase.Partitions / 2),
            Settle, "every partition active once, as the database records, half on each silo");

        // A new activation takes a new epoch: the old one's writes are refused from then on.
        var before = (await GrainCluster.OwnersAsync(Db))[3].Epoch;
        await cluster.DeactivateAsync(cluster.Client.GetGrain<IOutboxPartitionGrain>(3));
        await Eventually.TrueAsync(async () => (await GrainCluster.OwnersAsync(Db))[3].Epoch > before && await GrainCluster.SettledAsync(cluster, Db),
            Settle, "the keeper re-activated partition 3 under a newer epoch");
    }

    [Fact]
    public async Task ADrainCallReachesEachPartitionWhereverItLivesAndPublishesItsRows()
    {
        // A sweep far away: only the grain call can make these rows go out within the test's bound.
        await using var cluster = await GrainCluster.StartAsync(Db, Kafka, silos: 2, sweep: TimeSpan.FromMinutes(10));
        await Eventually.TrueAsync(() => GrainCluster.SettledAsync(cluster, Db), Settle, "every partition active once");
        // The first drain of each activation has run; rows committed now wait for a trigger.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var messages = Enumerable.Range(0, 64).Select(i => Enqueue.Event(topic, $"key-{i}", 1)).ToArray();
        var ids = await Enqueue.CommitAsync(Db, messages);
        var partitions = messages.Select(m => OutboxPartitioner.PartitionOf(m.Key, TestDatabase.Partitions)).Distinct().ToArray();
        Assert.True(partitions.Length > TestDatabase.Partitions / 2, "the keys cover partitions on both silos");

        var client = new OutboxClient(Db.DataSource, cluster.Client);
        foreach (var partition in partitions) await client.RequestDrainAsync(partition);

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(30)));
        // Removal follows the acknowledgement: on a loaded machine the last batch's removal may trail the consumer.
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(10), "published rows are removed from the outbox");
    }

    [Fact]
    public async Task PartitionsMoveToAJoiningSiloUntilTheSpreadIsEvenAgain()
    {
        await using var cluster = await GrainCluster.StartAsync(Db, Kafka, silos: 2, sweep: TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => GrainCluster.SettledAsync(cluster, Db), Settle, "every partition active once");

        var joined = await cluster.StartAdditionalSiloAsync();
        await Eventually.TrueAsync(async () =>
        {
            var active = GrainCluster.Active(cluster);
            return active.TryGetValue(joined.Name, out var mine) && mine.Count > 0
                && active.Values.All(a => a.Count <= (TestDatabase.Partitions + 2) / 3)
                && await GrainCluster.SettledAsync(cluster, Db);
        }, Settle, "the joining silo took its share and every partition is still active exactly once");
    }

    [Fact]
    public async Task AFencedActivationDeactivatesItselfAndThePartitionComesBackUnderANewerEpoch()
    {
        await using var cluster = await GrainCluster.StartAsync(Db, Kafka, silos: 2, sweep: TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => GrainCluster.SettledAsync(cluster, Db), Settle, "every partition active once");
        var holder = GrainCluster.Active(cluster).Single(a => a.Value.ContainsKey(5));
        var (silo, epoch) = (holder.Key, holder.Value[5]);

        // What a zombie's successor does: take a newer epoch behind the running activation's back.
        var fencing = await Db.ScalarAsync("update outbox.partitions set epoch = epoch + 1 where partition = 5 returning epoch");

        await Eventually.TrueAsync(async () =>
        {
            var active = GrainCluster.Active(cluster);
            var current = active.SingleOrDefault(a => a.Value.ContainsKey(5));
            return current.Value is { } epochs && epochs[5] > fencing && await GrainCluster.SettledAsync(cluster, Db);
        }, Settle, $"the fenced activation (epoch {epoch} on {silo}) deactivated itself and partition 5 was activated again");
    }

    [Fact]
    public async Task AScheduledMessageKeepsADurableReminderAndFiresOnTimeAfterItsSiloStops()
    {
        await using var cluster = await GrainCluster.StartAsync(Db, Kafka, silos: 2, sweep: TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => GrainCluster.SettledAsync(cluster, Db), Settle, "every partition active once");
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var deliverAt = DateTimeOffset.UtcNow.AddSeconds(15);
        var message = Enqueue.Event(topic, "scheduled-key", 1) with { DeliverAt = deliverAt };
        var partition = OutboxPartitioner.PartitionOf(message.Key, TestDatabase.Partitions);
        var ids = await Enqueue.CommitAsync(Db, message);

        // The partition registers its durable wake-up in PostgreSQL (orleans.reminders).
        await Eventually.TrueAsync(async () => await Db.ScalarAsync(
                "select count(*) from orleans.reminders where reminder_name = 'scheduled-messages'") == 1,
            TimeSpan.FromSeconds(20), "a reminder row for the partition with a scheduled message");

        var holder = GrainCluster.Active(cluster).Single(a => a.Value.ContainsKey(partition)).Key;
        await cluster.StopSiloAsync(cluster.Silos.Single(s => s.Name == holder));

        var published = await PublishTimes.WaitAsync(verifier, ids, TimeSpan.FromSeconds(40));
        var lateness = published[ids[0]] - deliverAt;
        Assert.True(lateness >= TimeSpan.Zero, string.Create(CultureInfo.InvariantCulture, $"published {-lateness.TotalMilliseconds:0} ms early"));
        Assert.True(lateness < TimeSpan.FromSeconds(5), $"published {lateness.TotalSeconds:0.0}s late");
        // Nothing scheduled any more: the survivor's activation unregisters the reminder.
        await Eventually.TrueAsync(async () => await Db.ScalarAsync(
                "select count(*) from orleans.reminders where reminder_name = 'scheduled-messages'") == 0,
            TimeSpan.FromSeconds(20), "the reminder is gone once nothing is scheduled");
    }
}
