using Outbox.Contracts;
using Outbox.Contracts.Admin;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Grains;

/// <summary>
/// A key's later message never overtakes an earlier one that becomes publishable while a drain is already reading past
/// it: a scheduled message falling due, a row of a transaction that commits late, a parked message an operator retries.
/// Each test holds one partition busy with a long backlog (many batches in one drain), acts when the drain is well
/// past the earlier message, and puts the key's later message at the end of the backlog, where the same drain reads it.
/// </summary>
public sealed class OrderWithinOneDrainTests(ITestOutputHelper output) : RelayTestBase
{
    private const string Key = "order-k";
    // Large enough that the drain is still reading it when the test acts: catch-up reads now follow each taken batch at
    // once, and 30,000 rows were more than half drained by then in a full run.
    private const int Backlog = 60_000;
    private static readonly int Partition = OutboxPartitioner.PartitionOf(Key, TestDatabase.Partitions);

    [Fact]
    public async Task AScheduledMessageThatFallsDueDuringADrainIsPublishedBeforeTheLaterMessagesOfItsKey()
    {
        var topic = Kafka.CreateTopic();
        var scheduled = Enqueue.Event(topic, Key, 1) with { DeliverAt = DateTimeOffset.UtcNow.AddHours(1) };
        var heldBehind = Enqueue.Event(topic, Key, 2);
        await Enqueue.CommitAsync(Db, scheduled, heldBehind);
        var filler = await FillAsync(topic);
        var last = Enqueue.Event(topic, Key, 3);
        await Enqueue.CommitAsync(Db, last);

        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        await DrainUnderWayAsync(verifier);
        // Falls due 200 ms from now, while the drain still has most of the backlog ahead of it.
        await Db.ScalarAsync($"update outbox.messages set deliver_at = now() + interval '200 ms' where event_id = '{scheduled.EventId}' returning 0");

        await AssertAllInKeyOrderAsync(verifier, filler, scheduled, heldBehind, last);
    }

    [Fact]
    public async Task ARowOfATransactionThatCommitsLateDuringADrainIsPublishedBeforeTheKeysNextMessage()
    {
        var topic = Kafka.CreateTopic();
        // The application serialises writes to the key: the second message is written only after the first committed.
        // The first transaction drew its id before the backlog, and commits while the drain is reading the backlog.
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        var first = Enqueue.Event(topic, Key, 1);
        await late.EnqueueAsync(first);
        var filler = await FillAsync(topic);

        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        await DrainUnderWayAsync(verifier);
        await late.CommitAsync();
        var second = Enqueue.Event(topic, Key, 2);
        await Enqueue.CommitAsync(Db, second);

        await AssertAllInKeyOrderAsync(verifier, filler, first, second);
    }

    /// <param name="followers">
    /// Messages of the key behind the parked one. More than one batch (1,000 rows): the read that starts at the retried
    /// row cannot reach them all, and the floor must not pass the rest when the batch read before it completes.
    /// </param>
    [Theory]
    [InlineData(1)]
    [InlineData(1_500)]
    public async Task AParkedMessageRetriedDuringADrainIsPublishedBeforeTheLaterMessagesOfItsKey(int followers)
    {
        var topic = Kafka.CreateTopic();
        var parked = Enqueue.Event(topic, Key, 1);
        var heldBehind = Enumerable.Range(2, followers).Select(version => Enqueue.Event(topic, Key, version)).ToArray();
        await Enqueue.CommitAsync(Db, [parked, .. heldBehind]);
        var parkedId = await Db.ScalarAsync(
            $"update outbox.messages set parked_at = now(), park_reason = 'test', attempts = 1 where event_id = '{parked.EventId}' returning id");
        var filler = await FillAsync(topic);
        var last = Enqueue.Event(topic, Key, followers + 2);
        await Enqueue.CommitAsync(Db, last);

        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        await DrainUnderWayAsync(verifier);
        Assert.Equal(1, await new OutboxAdmin(Db.DataSource).RetryParkedAsync(new ParkedSelection(Partition, Id: parkedId)));

        await AssertAllInKeyOrderAsync(verifier, filler, [parked, .. heldBehind, last]);
    }

    /// <summary>A backlog in the key's partition, other keys, no order header: what keeps the drain busy.</summary>
    private async Task<Guid[]> FillAsync(string topic)
    {
        await using var command = Db.DataSource.CreateCommand("""
            insert into outbox.messages (partition, event_id, topic, key, payload)
            select @partition, gen_random_uuid(), @topic, 'filler-' || i, '\x00'::bytea from generate_series(1, @count) i
            returning event_id
            """);
        command.Parameters.AddWithValue("partition", Partition);
        command.Parameters.AddWithValue("topic", topic);
        command.Parameters.AddWithValue("count", Backlog);
        var ids = new List<Guid>(Backlog);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetGuid(0));
        return ids.ToArray();
    }

    /// <summary>Waits until the drain has published a tenth of the backlog: it is reading far past the key's first message.</summary>
    private static Task DrainUnderWayAsync(DeliveryVerifier verifier) =>
        Eventually.TrueAsync(() => Task.FromResult(verifier.Distinct >= Backlog / 10), TimeSpan.FromSeconds(60), "the drain is under way");

    private async Task AssertAllInKeyOrderAsync(DeliveryVerifier verifier, Guid[] filler, params OutboxMessage[] keyMessages)
    {
        var remainingBacklog = Backlog - verifier.Distinct;
        Assert.Equal(0, await verifier.WaitForAsync([.. filler, .. keyMessages.Select(m => m.EventId)], TimeSpan.FromSeconds(90)));
        output.WriteLine($"backlog still ahead of the drain when it acted: {remainingBacklog}; out of order: {verifier.OutOfOrder}");
        Assert.True(remainingBacklog > Backlog / 2, "the drain was still reading the backlog (else this test proves nothing)");
        Assert.Equal(0, verifier.OutOfOrder);
    }
}
