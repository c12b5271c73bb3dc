using System.Diagnostics;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Grains;

/// <summary>
/// The wake path without NOTIFY: the silo's change feed finds committed rows on its own, rows of transactions that
/// commit out of id order and rows written in savepoints included, and rows made publishable by hand. The sweep is set
/// to 30 minutes, so within a test only the feed can find a row.
/// </summary>
public sealed class WakePathTests : RelayTestBase
{
    private static readonly Dictionary<string, string> FeedOnly = new() { ["Relay:SweepInterval"] = "00:30:00" };

    /// <summary>A feed interval plus a read, a publish and a consumer's poll, with room for a loaded shared machine.</summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task ACommittedRowIsPublishedWithoutAnyNotifyOrSweep()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: FeedOnly);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        var ids = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "order-1", 1));

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public Task ARowOfATransactionThatCommitsAfterAHigherIdOfItsPartitionWasPublishedIsPublishedPromptly() =>
        ALateCommitIsPublishedPromptlyAsync(partition: 3, savepoint: false);

    /// <summary>
    /// EF Core's SaveChanges in a transaction, JDBC's autosave and PL/pgSQL exception blocks all write in savepoints. The
    /// probe this feed replaced matched rows by their own (sub)transaction id and left such a late row to the sweep.
    /// </summary>
    [Fact]
    public Task ARowWrittenInASavepointOfATransactionThatCommitsLateIsPublishedPromptly() =>
        ALateCommitIsPublishedPromptlyAsync(partition: 5, savepoint: true);

    /// <summary>
    /// The late transaction draws the lower id; the early one (same partition, higher id) commits and is published first,
    /// then the late one commits.
    /// </summary>
    private async Task ALateCommitIsPublishedPromptlyAsync(int partition, bool savepoint)
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: FeedOnly);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var keys = KeysOf(partition, count: 2);

        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        if (savepoint) await late.SaveAsync("before_enqueue");
        var lateMessage = Enqueue.Event(topic, keys[0], 1);
        await late.EnqueueAsync(lateMessage);
        if (savepoint) await late.ReleaseAsync("before_enqueue");
        var early = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, keys[1], 1));
        Assert.Equal(0, await verifier.WaitForAsync(early, TimeSpan.FromSeconds(30)));

        await late.CommitAsync();
        var committed = Stopwatch.StartNew();
        Assert.Equal(0, await verifier.WaitForAsync([lateMessage.EventId], Promptly));
        Assert.True(committed.Elapsed < Promptly, $"published {committed.Elapsed.TotalSeconds:0.0}s after its commit");
    }

    /// <summary>
    /// The supported way to un-park is the operator tools (outbox.retry_parked); setting deliver_at or parked_at back to
    /// null by hand is made safe: the update trigger puts the row back on the feed, and the sweep (every second here)
    /// releases the rows that were held behind it, after it in their key's order.
    /// </summary>
    [Fact]
    public async Task RowsMadePublishableByHandArePublishedAndTheirKeysOrderKept()
    {
        var topic = Kafka.CreateTopic();
        var scheduled = Enqueue.Event(topic, "order-1", 1) with { DeliverAt = DateTimeOffset.UtcNow.AddHours(1) };
        var behindScheduled = Enqueue.Event(topic, "order-1", 2);
        var parked = Enqueue.Event(topic, "order-2", 1);
        var behindParked = Enqueue.Event(topic, "order-2", 2);
        await Enqueue.CommitAsync(Db, scheduled, behindScheduled, parked, behindParked);
        await Db.ScalarAsync($"update outbox.messages set parked_at = now(), park_reason = 'test' where event_id = '{parked.EventId}' returning 0");
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages where deliver_at = 'infinity'") == 2,
            TimeSpan.FromSeconds(30), "the rows behind the scheduled and the parked one are held");

        await Db.ScalarAsync($"update outbox.messages set deliver_at = null where event_id = '{scheduled.EventId}' returning 0");
        await Db.ScalarAsync($"update outbox.messages set parked_at = null, park_reason = null where event_id = '{parked.EventId}' returning 0");

        Assert.Equal(0, await verifier.WaitForAsync([scheduled.EventId, parked.EventId, behindScheduled.EventId, behindParked.EventId],
            TimeSpan.FromSeconds(30)));
        Assert.Equal(0, verifier.OutOfOrder);
    }

    /// <summary>
    /// An idle silo probes every Wake:IdleProbeInterval (50 ms), not every Wake:ProbeInterval (5 ms): each probe costs
    /// the silo and the database CPU, about a tenth of a core at 5 ms on this kind of machine. Counted as the test
    /// database's committed transactions (each probe is one; the silo's membership and reminder statements add a few),
    /// which PostgreSQL's statistics report within a second.
    /// </summary>
    [Fact]
    public async Task AnIdleSiloProbesAtTheIdleIntervalAndStillPublishesTheNextRowPromptly()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: FeedOnly);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await Task.Delay(TimeSpan.FromSeconds(3)); // the activations' first reads, then a quiet second

        var before = await CommittedTransactionsAsync();
        var watch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(6));
        var perSecond = (await CommittedTransactionsAsync() - before) / watch.Elapsed.TotalSeconds;
        // 20 probes a second at 50 ms; 200 at 5 ms, and well over 80 even on a loaded machine.
        Assert.True(perSecond < 80, $"an idle silo ran {perSecond:0} transactions a second");

        var ids = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "order-1", 1));
        var committed = Stopwatch.StartNew();
        Assert.Equal(0, await verifier.WaitForAsync(ids, Promptly));
        Assert.True(committed.Elapsed < Promptly, $"published {committed.Elapsed.TotalSeconds:0.0}s after its commit");
    }

    private async Task<long> CommittedTransactionsAsync()
    {
        // Backends report their counts at most once a second; waiting that long makes both readings equally fresh.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        return await Db.ScalarAsync("select xact_commit from pg_stat_database where datname = current_database()");
    }

    private static string[] KeysOf(int partition, int count) =>
        Enumerable.Range(0, 10_000).Select(i => $"key-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition).Take(count).ToArray();
}
