using Outbox.Contracts;
using Outbox.Contracts.Admin;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Operations;

/// <summary>
/// The scope of per-key order, as the README states it: per (topic, key). When Kafka refuses a key's message to one
/// topic in its delivery report (a forbidden topic), no later message of that key to that topic reaches Kafka
/// before it; a message of the key to another topic sent in the same batch may (that is the stated scope). After
/// access is granted and the operator retries, every topic holds the key's messages in outbox order.
/// </summary>
public sealed class OrderScopeTests(ITestOutputHelper output) : RelayTestBase
{
    [Fact]
    public async Task OrderHoldsPerTopicAndKeyWhenKafkaRefusesAMessageAsynchronously()
    {
        var forbidden = Kafka.CreateTopic("forbidden");
        var allowed = Kafka.CreateTopic("allowed");
        Kafka.Cluster.SetTopicError(forbidden, MockKafkaCluster.Errors.TopicAuthorizationFailed);
        using var forbiddenReader = new DeliveryVerifier(Kafka.BootstrapServers, forbidden);
        using var allowedReader = new DeliveryVerifier(Kafka.BootstrapServers, allowed);
        // One key, alternating topics: versions 1 and 3 to the forbidden topic, 2 and 4 to the allowed one.
        var first = Enqueue.Event(forbidden, "tenant-1", 1);
        var second = Enqueue.Event(allowed, "tenant-1", 2);
        var third = Enqueue.Event(forbidden, "tenant-1", 3);
        var fourth = Enqueue.Event(allowed, "tenant-1", 4);
        await Enqueue.CommitAsync(Db, first, second, third, fourth);

        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        var admin = silo.Get<OutboxAdmin>();
        // Both messages to the forbidden topic may be refused in the same batch; the key waits for the earliest.
        ParkedMessage? parked = null;
        await Eventually.TrueAsync(async () => (parked = (await admin.ListParkedAsync(null, "tenant-1", 10)).MinBy(p => p.Id)) is not null,
            TimeSpan.FromSeconds(30), "the message to the forbidden topic is parked");
        await Task.Delay(TimeSpan.FromSeconds(2)); // several sweeps: nothing behind the parked message may move
        output.WriteLine($"while parked: the other topic holds {allowedReader.Distinct} of the key's messages (sent in the same batch: outside the scope)");
        Assert.False(forbiddenReader.HasSeen(third.EventId), "a later message to the same topic passed the refused one");

        Kafka.Cluster.SetTopicError(forbidden, 0);
        // librdkafka keeps a topic's error until its next metadata refresh: retry until the message goes.
        await Eventually.TrueAsync(async () =>
        {
            if (forbiddenReader.HasSeen(first.EventId)) return true;
            if ((await admin.ListParkedAsync(parked!.Partition, "tenant-1", 10)).Count > 0)
                await admin.RetryParkedAsync(new ParkedSelection(parked.Partition, Key: "tenant-1")); // both, if both were refused
            await Task.Delay(TimeSpan.FromSeconds(2));
            return forbiddenReader.HasSeen(first.EventId);
        }, TimeSpan.FromSeconds(90), "the retried message is published once access is granted");
        Assert.Equal(0, await forbiddenReader.WaitForAsync([first.EventId, third.EventId], TimeSpan.FromSeconds(20)));
        Assert.Equal(0, await allowedReader.WaitForAsync([second.EventId, fourth.EventId], TimeSpan.FromSeconds(20)));
        Assert.Equal(0, forbiddenReader.OutOfOrder);
        Assert.Equal(0, allowedReader.OutOfOrder);
    }
}
