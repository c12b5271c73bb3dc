using Confluent.Kafka;
using Npgsql;
using Outbox.Inbox;
using Outbox.Inbox.Admin;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Inbox;
using Published = Outbox.Tools.Inbox.LedgerEvents.OrderEvent;

namespace Outbox.Tests.Inbox;

/// <summary>The inbox's guarantees on one consuming service: copies skipped, rebalances, poison and late events.</summary>
public sealed class InboxConsumerTests : InboxTestBase
{
    [Fact]
    public async Task EveryEventIsAppliedOnceAndInOrderWhenKafkaDeliversItTwiceOrTheOffsetsAreReplayed()
    {
        var topic = Kafka.CreateTopic("inbox");
        var events = Events(keys: 20, versions: 10);
        await ProduceAsync(topic, events);
        await ProduceAsync(topic, events); // the same events again: a relay that re-published them
        var consumer = await StartConsumerAsync<LedgerHandler>(topic);
        await WaitForAppliedAsync(events.Count, TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from inbox.received") == events.Count,
            TimeSpan.FromSeconds(10), "every event recorded once");
        await StopAsync(consumer);

        // Replay: the group's offsets go back to the beginning, as an operator resetting them would do.
        await Task.Run(() =>
        {
            // A member of the group (Kafka accepts its commits) moves every partition back to offset 0.
            using var reset = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
            {
                BootstrapServers = Kafka.BootstrapServers, GroupId = Group, EnableAutoCommit = false, SessionTimeoutMs = 6000,
            }).Build();
            reset.Subscribe(topic);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (reset.Assignment.Count < 6 && DateTime.UtcNow < deadline) reset.Consume(TimeSpan.FromMilliseconds(100));
            reset.Commit(reset.Assignment.Select(p => new TopicPartitionOffset(p, 0)));
            reset.Close();
        });
        await StartConsumerAsync<LedgerHandler>(topic);
        await ProduceAsync(topic, [Published.Of("order-0", 11, 1000)]);
        await WaitForAppliedAsync(events.Count + 1, TimeSpan.FromSeconds(60));
        await Task.Delay(500);

        var check = await CheckLedgerAsync([.. events, Published.Of("order-0", 11, 1000)]);
        Assert.True(check.ExactlyOnceInOrder, check.ToString());
        // Every copy was read and skipped: the second copy of each event, then both copies again after the reset.
        Assert.Equal(3 * events.Count, Counted("outbox.inbox.duplicates"));
        Assert.Equal(events.Count + 1, Counted("outbox.inbox.applied"));
    }

    [Fact]
    public async Task RebalancesInTheMiddleOfBatchesLoseAndDoubleNothing()
    {
        var topic = Kafka.CreateTopic("inbox");
        var events = Events(keys: 60, versions: 25);
        await ProduceAsync(topic, events);
        // Slow handlers (5 ms an event): every rebalance lands while batches are in flight.
        var first = await StartConsumerAsync<LedgerHandler>(topic, delayMs: 5);
        await Eventually.TrueAsync(async () => await AppliedAsync() > 100, TimeSpan.FromSeconds(60), "the first member applies events");
        var second = await StartConsumerAsync<LedgerHandler>(topic, delayMs: 5);
        await Eventually.TrueAsync(async () => await AppliedAsync() > 600, TimeSpan.FromSeconds(60), "both members apply events");
        await StopAsync(first); // leaves the group mid-batch: its partitions move to the second member
        var third = await StartConsumerAsync<LedgerHandler>(topic, delayMs: 5);
        await WaitForAppliedAsync(events.Count, TimeSpan.FromSeconds(120));
        await Task.Delay(1000);

        var check = await CheckLedgerAsync(events);
        Assert.True(check.ExactlyOnceInOrder, check.ToString());
        GC.KeepAlive((second, third));
    }

    [Fact]
    public async Task APoisonEventParksItsKeyWhileThePartitionsOtherKeysFlowAndARetryAppliesTheKeyInOrder()
    {
        var topic = Kafka.CreateTopic("inbox", partitions: 1); // one partition: the other keys share it with the poison
        await using (var poison = Db.DataSource.CreateCommand("create table poisoned (key text, version bigint); insert into poisoned values ('order-1', 3)"))
            await poison.ExecuteNonQueryAsync();
        var events = Events(keys: 5, versions: 10);
        await ProduceAsync(topic, events);
        await StartConsumerAsync<PoisonableLedgerHandler>(topic, o => o.MaxAttempts = 2);

        // The other keys are applied in full; order-1 stops before version 3, whose later versions wait behind it.
        await WaitForAppliedAsync(4 * 10 + 2, TimeSpan.FromSeconds(60));
        await Eventually.TrueAsync(async () => (await ParkedAsync()).Count == 8, TimeSpan.FromSeconds(30), "order-1's versions 3..10 are parked");
        var parked = await ParkedAsync();
        Assert.Equal(("order-1", 3L, "failed"), (parked[0].Key, parked[0].Version, parked[0].Reason));
        Assert.All(parked.Skip(1), p => Assert.Equal(("order-1", "waiting"), (p.Key, p.Reason)));
        Assert.Equal(Enumerable.Range(3, 8).Select(v => (long)v), parked.Select(p => p.Version));
        var listed = await new InboxAdmin(Db.DataSource).ListParkedAsync(Group, topic: null, key: "order-1", limit: 100);
        Assert.Contains("poisoned", listed[0].Error, StringComparison.Ordinal);
        Assert.Equal(2, listed[0].Attempts);

        // The cause is fixed and an operator retries: the key's events are applied in their order.
        await using (var fix = Db.DataSource.CreateCommand("delete from poisoned")) await fix.ExecuteNonQueryAsync();
        Assert.Equal(1, await new InboxAdmin(Db.DataSource).RetryParkedAsync(new InboxParkedSelection(Group, Id: parked[0].Id)));
        await WaitForAppliedAsync(events.Count, TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => (await ParkedAsync()).Count == 0, TimeSpan.FromSeconds(10), "nothing stays parked");
        var check = await CheckLedgerAsync(events);
        Assert.True(check.ExactlyOnceInOrder, check.ToString());
    }

    [Fact]
    public async Task ADiscardedPoisonEventReleasesTheEventsOfItsKeyThatWaitedBehindIt()
    {
        var topic = Kafka.CreateTopic("inbox", partitions: 1);
        await using (var poison = Db.DataSource.CreateCommand("create table poisoned (key text, version bigint); insert into poisoned values ('order-0', 2)"))
            await poison.ExecuteNonQueryAsync();
        var events = Events(keys: 2, versions: 4);
        await ProduceAsync(topic, events);
        await StartConsumerAsync<PoisonableLedgerHandler>(topic, o => o.MaxAttempts = 1);
        await Eventually.TrueAsync(async () => (await ParkedAsync()).Count == 3, TimeSpan.FromSeconds(60), "order-0's versions 2..4 are parked");

        var discarded = await new InboxAdmin(Db.DataSource).DiscardParkedAsync(new InboxParkedSelection(Group, Key: "order-0", Reason: InboxParkedReason.Failed),
            discardedBy: "test", reason: "a bad order");
        Assert.Equal(1, discarded);
        await WaitForAppliedAsync(events.Count - 1, TimeSpan.FromSeconds(30));
        await using var versions = Db.DataSource.CreateCommand("select array_agg(version order by id) from ledger_entries where key = 'order-0'");
        Assert.Equal(new long[] { 1, 3, 4 }, (long[])(await versions.ExecuteScalarAsync())!);
        Assert.Equal(1, await Db.ScalarAsync("select count(*) from inbox.discarded where discarded_by = 'test'"));
    }

    [Fact]
    public async Task InDeadLetterModeAPoisonEventGoesToTheDeadLetterTopicOnceWithItsErrorAndThePartitionMovesOn()
    {
        var topic = Kafka.CreateTopic("inbox", partitions: 1);
        var deadLetters = Kafka.CreateTopic("dead", partitions: 1);
        await using (var poison = Db.DataSource.CreateCommand("create table poisoned (key text, version bigint); insert into poisoned values ('order-0', 2)"))
            await poison.ExecuteNonQueryAsync();
        var events = Events(keys: 2, versions: 3);
        await ProduceAsync(topic, events);
        await ProduceAsync(topic, events.Where(e => e.Key == "order-0" && e.Version == 2)); // a copy: recorded, so not dead-lettered twice
        await StartConsumerAsync<PoisonableLedgerHandler>(topic, o =>
        {
            o.MaxAttempts = 2;
            o.PoisonEvents = PoisonEventAction.DeadLetter;
            o.DeadLetterTopic = deadLetters;
        });

        await WaitForAppliedAsync(events.Count - 1, TimeSpan.FromSeconds(60));
        var dead = await KafkaReader.ReadOneAsync(Kafka.BootstrapServers, deadLetters, TimeSpan.FromSeconds(30));
        var headers = KafkaReader.Headers(dead.Message);
        Assert.Equal(events.Single(e => e.Key == "order-0" && e.Version == 2).EventId.ToString(), headers["outbox-event-id"]);
        Assert.Contains("poisoned order event", headers["inbox-error"], StringComparison.Ordinal);
        Assert.Equal((topic, Group), (headers["inbox-source-topic"], headers["inbox-consumer-group"]));
        await Eventually.TrueAsync(() => Task.FromResult(Counted("outbox.inbox.duplicates") == 1), TimeSpan.FromSeconds(10), "the copy is skipped");
        Assert.Equal(1, Counted("outbox.inbox.dead_lettered"));
        Assert.Empty(await ParkedAsync());
        // Dead-lettering does not hold the key back (Park does): order-0's version 3 was applied after version 1.
        await using var versions = Db.DataSource.CreateCommand("select array_agg(version order by id) from ledger_entries where key = 'order-0'");
        Assert.Equal(new long[] { 1, 3 }, (long[])(await versions.ExecuteScalarAsync())!);
    }

    [Theory]
    [InlineData(LateEventAction.Park)]
    [InlineData(LateEventAction.Apply)]
    public async Task AnEventBelowItsKeysPositionIsLateAndNeverSilentlyAppliedOutOfOrder(LateEventAction action)
    {
        var topic = Kafka.CreateTopic("inbox", partitions: 1);
        await ProduceAsync(topic, [Published.Of("order-0", 1, 10), Published.Of("order-0", 2, 20)]);
        await StartConsumerAsync<LedgerHandler>(topic, o => o.LateEvents = action);
        await WaitForAppliedAsync(2, TimeSpan.FromSeconds(60));
        // A distinct event whose sequence is below the last one applied for its key: it arrived late.
        await ProduceAsync(topic, [Published.Of("order-0", 3, 15), Published.Of("order-0", 4, 30)]);
        if (action == LateEventAction.Park)
        {
            await WaitForAppliedAsync(3, TimeSpan.FromSeconds(30));
            await Eventually.TrueAsync(async () => (await ParkedAsync()).Count == 1, TimeSpan.FromSeconds(10), "the late event is parked");
            Assert.Equal(("order-0", 3L, "late"), ((await ParkedAsync())[0].Key, (await ParkedAsync())[0].Version, (await ParkedAsync())[0].Reason));
            await using var versions = Db.DataSource.CreateCommand("select array_agg(version order by id) from ledger_entries");
            Assert.Equal(new long[] { 1, 2, 4 }, (long[])(await versions.ExecuteScalarAsync())!);
        }
        else
        {
            await WaitForAppliedAsync(4, TimeSpan.FromSeconds(30));
            Assert.Empty(await ParkedAsync());
        }
        Assert.Equal(1, Counted("outbox.inbox.reordered"));
    }

    /// <summary>The ledger's handler, failing for the (key, version) pairs listed in table poisoned.</summary>
    private sealed class PoisonableLedgerHandler(Microsoft.Extensions.Configuration.IConfiguration configuration) : IInboxHandler
    {
        private readonly LedgerHandler _ledger = new(configuration);

        public async Task HandleAsync(InboxEvent inboxEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken)
        {
            await using var check = new NpgsqlCommand("select exists (select 1 from poisoned where key = $1 and version = $2::bigint)", transaction.Connection, transaction)
            {
                Parameters = { new() { Value = inboxEvent.Key }, new() { Value = inboxEvent.Header("version") } },
            };
            if ((bool)(await check.ExecuteScalarAsync(cancellationToken))!) throw new InvalidOperationException("poisoned order event");
            await _ledger.HandleAsync(inboxEvent, transaction, cancellationToken);
        }
    }
}
