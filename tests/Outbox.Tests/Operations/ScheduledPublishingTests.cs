using Outbox.Silo.Verification;
using Outbox.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Outbox.Tests.Operations;

/// <summary>Messages with a deliver-at wait in the outbox until their time, fire on time, and keep their key's order.</summary>
public sealed class ScheduledPublishingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase _db = new();
    private readonly TestKafka _kafka = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _kafka.Dispose();
    }

    [Fact]
    public async Task AMessageScheduledTwoSecondsAheadIsPublishedAfterItsTimeAndNotBefore()
    {
        var topic = _kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(_db, _kafka);
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var deliverAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var message = Enqueue.Event(topic, "scheduled-1", 1) with { DeliverAt = deliverAt };
        await Enqueue.CommitAsync(_db, message);

        await Task.Delay(deliverAt - DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(300));
        Assert.False(verifier.HasSeen(message.EventId), "published before its deliver-at");

        var published = await PublishTimes.WaitAsync(verifier, [message.EventId], TimeSpan.FromSeconds(20));
        var lateness = (published[message.EventId] - deliverAt).TotalMilliseconds;
        output.WriteLine($"lateness {lateness:0} ms");
        Assert.InRange(lateness, 0, 2000);
    }

    [Fact]
    public async Task ThousandsOfScheduledMessagesAcrossPartitionsFireWithinASmallTolerance()
    {
        const int count = 2000;
        var topic = _kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(_db, _kafka);
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var start = DateTimeOffset.UtcNow.AddSeconds(2);
        // Distinct keys, so each message's own time is what holds it (not an earlier message of its key).
        var messages = Enumerable.Range(0, count)
            .Select(i => Enqueue.Event(topic, $"tick-{i}", 1) with { DeliverAt = start.AddMilliseconds(Random.Shared.Next(3000)) })
            .ToArray();
        await Enqueue.CommitAsync(_db, messages);
        Assert.Equal(TestDatabase.Partitions, await _db.ScalarAsync("select count(distinct partition) from outbox.messages"));

        var published = await PublishTimes.WaitAsync(verifier, messages.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(60));
        var lateness = messages.Select(m => (published[m.EventId] - m.DeliverAt!.Value).TotalMilliseconds).ToArray();
        output.WriteLine("scheduled lateness: " + PublishTimes.Summarize(lateness));
        Assert.All(lateness, l => Assert.True(l >= 0, $"a message was published {-l:0} ms before its time"));
        Assert.True(lateness.Order().ElementAt(count / 2) < 500, "median lateness under 500 ms");
        Assert.True(lateness.Max() < 3000, $"every message within 3 s of its time (max {lateness.Max():0} ms)");
    }

    [Fact]
    public async Task ALaterImmediateMessageOfTheSameKeyDoesNotOvertakeAScheduledOne()
    {
        var topic = _kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(_db, _kafka);
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        var deliverAt = DateTimeOffset.UtcNow.AddSeconds(3);
        var scheduled = Enqueue.Event(topic, "order-1", 1) with { DeliverAt = deliverAt };
        var sameKeyLater = Enqueue.Event(topic, "order-1", 2);
        var otherKey = Enqueue.Event(topic, "order-2", 1);
        await Enqueue.CommitAsync(_db, scheduled, sameKeyLater, otherKey);

        // Another key is not held back: it is published at once.
        Assert.Equal(0, await verifier.WaitForAsync([otherKey.EventId], TimeSpan.FromSeconds(2)));
        Assert.False(verifier.HasSeen(sameKeyLater.EventId), "the immediate message overtook the scheduled one of its key");

        Assert.Equal(0, await verifier.WaitForAsync([scheduled.EventId, sameKeyLater.EventId], TimeSpan.FromSeconds(20)));
        Assert.True(DateTimeOffset.UtcNow >= deliverAt);
        verifier.TryGetFirstSeen(scheduled.EventId, out var first);
        verifier.TryGetFirstSeen(sameKeyLater.EventId, out var second);
        Assert.True(first <= second);
        Assert.Equal(0, verifier.OutOfOrder);
    }
}
