using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using System.Diagnostics;

namespace Outbox.Tests.Operations;

/// <summary>
/// No row can stop a partition for good, and a graceful stop is never held up by retries: a deliver-at of
/// 'infinity' or year 200000 written before validation existed leaves the partition draining, and a silo whose
/// database keeps failing stops at once when asked to.
/// </summary>
public sealed class PartitionWedgeTests : RelayTestBase
{
    [Fact]
    public async Task AnInfiniteOrAbsurdDeliverAtWrittenBeforeValidationDoesNotStopItsPartition()
    {
        var topic = Kafka.CreateTopic();
        var partition = OutboxPartitioner.PartitionOf("stuck-infinity", TestDatabase.Partitions);
        var sameKeys = Enumerable.Range(0, 10_000).Select(i => $"k-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition).Take(2).ToArray();
        // Rows as a writer could leave them before migration 011 validated deliver_at.
        await Db.ScalarAsync($"""
            alter table outbox.messages disable trigger messages_validate;
            insert into outbox.messages (partition, event_id, topic, key, payload, deliver_at) values
                ({partition}, gen_random_uuid(), '{topic}', 'stuck-infinity', '\x00', 'infinity'),
                ({partition}, gen_random_uuid(), '{topic}', 'stuck-infinity', '\x00', '200000-01-01');
            alter table outbox.messages enable trigger messages_validate;
            select 1
            """);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var silo = await TestSilo.StartAsync(Db, Kafka);

        var first = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, sameKeys[0], 1));
        Assert.True(await verifier.WaitForAsync(first, TimeSpan.FromSeconds(15)) == 0, "the partition drained once");
        await Task.Delay(TimeSpan.FromSeconds(2)); // several wake computations and sweeps later
        var later = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, sameKeys[1], 1));
        Assert.True(await verifier.WaitForAsync(later, TimeSpan.FromSeconds(15)) == 0,
            "a message enqueued later into the partition holding the far-future rows was not published: the partition is wedged");

        var stopping = Stopwatch.StartNew();
        await silo.DisposeAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"a graceful stop took {stopping.Elapsed}");
    }

    [Fact]
    public async Task AGracefulStopEndsTheRetriesOfAFailingDatabaseAtOnce()
    {
        var silo = await TestSilo.StartAsync(Db, Kafka);
        await Db.ScalarAsync("alter table outbox.messages rename to messages_away; select 1"); // every read now fails
        await Task.Delay(TimeSpan.FromSeconds(2)); // the relays are retrying

        var stopping = Stopwatch.StartNew();
        await silo.DisposeAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"a graceful stop took {stopping.Elapsed} while the relays retried");
        await Db.ScalarAsync("alter table outbox.messages_away rename to messages; select 1");
    }
}
