using Outbox.Contracts.Admin;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Operations;

/// <summary>A message Kafka refuses for good parks its key (only its key) until an operator retries or discards it.</summary>
public sealed class PoisonMessageTests(ITestOutputHelper output) : RelayTestBase
{
    private static readonly Dictionary<string, string> SmallMessageLimit = new() { ["Kafka:MessageMaxBytes"] = "2000" };

    [Fact]
    public async Task APoisonMessageParksOnlyItsKeyAndAfterTheFixARetryReleasesTheKeyInOrder()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var poisonKey = "poison-1";
        var partition = OutboxPartitioner.PartitionOf(poisonKey, TestDatabase.Partitions);
        var neighbours = NeighbourKeys(poisonKey, 3); // same outbox partition: they must flow past the parked key
        var poison = Enqueue.Event(topic, poisonKey, 1, payloadBytes: 10_000);
        var waiting = new[] { Enqueue.Event(topic, poisonKey, 2), Enqueue.Event(topic, poisonKey, 3) };
        var others = neighbours.SelectMany(k => Enumerable.Range(1, 3).Select(v => Enqueue.Event(topic, k, v))).ToArray();
        await Enqueue.CommitAsync(Db, [poison, .. waiting, .. others]);

        await using (var silo = await TestSilo.StartAsync(Db, Kafka, overrides: SmallMessageLimit))
        {
            Assert.Equal(0, await verifier.WaitForAsync(others.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(20)));
            // The parking commits with the removal of the batch's other rows, a moment after Kafka acknowledged them.
            await Eventually.TrueAsync(async () => (await silo.Get<OutboxAdmin>().ListParkedAsync(partition, null, 10)).Count == 1,
                TimeSpan.FromSeconds(10), "the oversized message is parked");
            var parked = Assert.Single(await silo.Get<OutboxAdmin>().ListParkedAsync(partition, null, 10));
            Assert.Equal(poison.EventId, parked.EventId);
            output.WriteLine("oversized message parked with: " + parked.Reason);
            Assert.Contains("MsgSizeTooLarge", parked.Reason, StringComparison.Ordinal);
            Assert.True(parked.Attempts >= 1);
            Assert.Equal(2, parked.Waiting);
            await Task.Delay(1500); // a sweep or two: the waiting messages stay behind their parked key
            Assert.DoesNotContain(waiting, m => verifier.HasSeen(m.EventId));
            Assert.Equal(1, await Db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null"));
        }

        // The operator raises the limit (a silo with the default 1 MB), then retries the parked key.
        await using var fixedSilo = await TestSilo.StartAsync(Db, Kafka, "fixed-silo");
        Assert.Equal(1, await fixedSilo.Get<OutboxAdmin>().RetryParkedAsync(new ParkedSelection(partition, Key: poisonKey)));

        Assert.Equal(0, await verifier.WaitForAsync([poison.EventId, .. waiting.Select(m => m.EventId)], TimeSpan.FromSeconds(20)));
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(0, verifier.Duplicates);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(10), "the outbox empties");
    }

    [Fact]
    public async Task AForbiddenTopicParksItsMessageAndARetryPublishesItOnceAccessIsGranted()
    {
        var forbidden = Kafka.CreateTopic("forbidden");
        var allowed = Kafka.CreateTopic("allowed");
        Kafka.Cluster.SetTopicError(forbidden, MockKafkaCluster.Errors.TopicAuthorizationFailed);
        using var forbiddenReader = new DeliveryVerifier(Kafka.BootstrapServers, allowed);
        var refused = Enqueue.Event(forbidden, "tenant-1", 1);
        var fine = Enumerable.Range(1, 5).Select(v => Enqueue.Event(allowed, "tenant-2", v)).ToArray();
        await Enqueue.CommitAsync(Db, [refused, .. fine]);

        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        Assert.Equal(0, await forbiddenReader.WaitForAsync(fine.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(20)));
        var admin = silo.Get<OutboxAdmin>();
        ParkedMessage? parked = null;
        await Eventually.TrueAsync(async () => (parked = (await admin.ListParkedAsync(null, "tenant-1", 10)).SingleOrDefault()) is not null,
            TimeSpan.FromSeconds(20), "the message to the forbidden topic is parked");
        output.WriteLine("forbidden topic parked with: " + parked!.Reason);
        Assert.Contains("Authorization", parked.Reason, StringComparison.OrdinalIgnoreCase);

        Kafka.Cluster.SetTopicError(forbidden, 0);
        Assert.Equal(1, await admin.RetryParkedAsync(new ParkedSelection(parked.Partition, Id: parked.Id)));
        using var granted = new DeliveryVerifier(Kafka.BootstrapServers, forbidden);
        // librdkafka keeps a topic's error until its next metadata refresh (30 s in the relay's producer), so the
        // first retry may park the message again: the operator retries until it goes, as docs/operations.md says.
        await Eventually.TrueAsync(async () =>
        {
            if (granted.HasSeen(refused.EventId)) return true;
            if ((await admin.ListParkedAsync(parked.Partition, "tenant-1", 10)).Count > 0)
                await admin.RetryParkedAsync(new ParkedSelection(parked.Partition, Id: parked.Id));
            await Task.Delay(TimeSpan.FromSeconds(2));
            return granted.HasSeen(refused.EventId);
        }, TimeSpan.FromSeconds(60), "the retried message is published once access is granted");
    }

    [Fact]
    public async Task DiscardingAParkedMessageRecordsAnAuditRowAndReleasesItsKey()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var poison = Enqueue.Event(topic, "order-9", 1, payloadBytes: 10_000);
        var next = Enqueue.Event(topic, "order-9", 2);
        await Enqueue.CommitAsync(Db, poison, next);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: SmallMessageLimit);
        var admin = silo.Get<OutboxAdmin>();
        var partition = OutboxPartitioner.PartitionOf("order-9", TestDatabase.Partitions);
        await Eventually.TrueAsync(async () => (await admin.ListParkedAsync(partition, null, 10)).Count == 1,
            TimeSpan.FromSeconds(20), "the oversized message is parked");

        Assert.Equal(1, await admin.DiscardParkedAsync(new ParkedSelection(partition, Key: "order-9"), "alice", "payload too large; re-sent by the order service"));

        Assert.Equal(0, await verifier.WaitForAsync([next.EventId], TimeSpan.FromSeconds(20)));
        Assert.False(verifier.HasSeen(poison.EventId));
        await using var audit = Db.DataSource.CreateCommand(
            "select event_id, discarded_by, reason, park_reason, attempts, octet_length(payload), discarded_at > now() - interval '1 minute' from outbox.discarded");
        await using var row = await audit.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal(poison.EventId, row.GetGuid(0));
        Assert.Equal("alice", row.GetString(1));
        Assert.Equal("payload too large; re-sent by the order service", row.GetString(2));
        Assert.Contains("MsgSizeTooLarge", row.GetString(3), StringComparison.Ordinal);
        Assert.True(row.GetInt32(4) >= 1);
        Assert.Equal(10_000, row.GetInt32(5));
        Assert.True(row.GetBoolean(6));
        Assert.False(await row.ReadAsync());
    }

    /// <summary>Keys that hash to the same outbox partition as <paramref name="key"/>.</summary>
    private static string[] NeighbourKeys(string key, int count)
    {
        var partition = OutboxPartitioner.PartitionOf(key, TestDatabase.Partitions);
        return Enumerable.Range(0, 10_000).Select(i => $"neighbour-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition).Take(count).ToArray();
    }
}
