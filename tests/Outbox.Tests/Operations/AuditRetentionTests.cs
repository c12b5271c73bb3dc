using Outbox.Contracts.Admin;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Operations;

/// <summary>With audit retention, published rows are kept in outbox.published for the retention, then removed in bounded batches.</summary>
public sealed class AuditRetentionTests : RelayTestBase
{
    private static readonly Dictionary<string, string> Audited = new()
    {
        ["Relay:AuditRetention"] = "01:00:00",
        ["Retention:Interval"] = "00:00:00.200",
        ["Retention:BatchSize"] = "7", // many small statements per purge
    };

    [Fact]
    public async Task RetentionRemovesExactlyTheExpiredAuditRowsAndNothingPending()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: Audited);
        await Enqueue.CommitAsync(Db, Enumerable.Range(0, 100).Select(i => Enqueue.Event(topic, $"k-{i}", 1)).ToArray());
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.published") == 100,
            TimeSpan.FromSeconds(20), "published rows are copied to the audit table");

        // Pending rows of every kind, made to look old: retention must go by publication, never touch the outbox.
        var pausedPartition = OutboxPartitioner.PartitionOf("paused-key", TestDatabase.Partitions);
        await silo.Get<OutboxAdmin>().SetPausedAsync(pausedPartition, paused: true);
        await Enqueue.CommitAsync(Db,
            Enqueue.Event(topic, "paused-key", 1),
            Enqueue.Event(topic, "later-key", 1) with { DeliverAt = DateTimeOffset.UtcNow.AddHours(1) });
        await Exec("update outbox.messages set created_at = now() - interval '3 hours'");

        // 60 audit rows past the retention, 40 within it. The rows kept are named before the update: a purge may run the
        // moment it commits.
        var expectedKept = await Db.ScalarAsync("select sum(id) from (select id from outbox.published order by id offset 60) kept");
        await Exec("""
            update outbox.published set published_at = now() - interval '2 hours'
            where id in (select id from outbox.published order by id limit 60)
            """);

        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.published") == 40,
            TimeSpan.FromSeconds(20), "expired audit rows are removed");
        await Task.Delay(1000); // several more purges: nothing else goes
        Assert.Equal(40, await Db.ScalarAsync("select count(*) from outbox.published"));
        Assert.Equal(expectedKept, await Db.ScalarAsync("select sum(id) from outbox.published"));
        Assert.Equal(2, await Db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Fact]
    public async Task ReplayPublishesAuditedMessagesAgainWithTheirEventIdsInOrder()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: Audited);
        var messages = Enumerable.Range(1, 20).Select(v => Enqueue.Event(topic, "account-1", v)).ToArray();
        await Enqueue.CommitAsync(Db, messages);
        Assert.Equal(0, await verifier.WaitForAsync(messages.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(20)));
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.published") == 20,
            TimeSpan.FromSeconds(10), "all twenty are audited");
        var from = await Db.ScalarAsync("select min(id) from outbox.published");

        var replayed = await silo.Get<OutboxAdmin>().ReplayAsync(new ReplayRange(from + 5, from + 14));

        Assert.Equal(10, replayed);
        await Eventually.TrueAsync(() => Task.FromResult(verifier.Received == 30), TimeSpan.FromSeconds(20), "the ten replayed copies arrive");
        Assert.Equal(10, verifier.Duplicates); // same event ids: a deduplicating consumer ignores them
        await using var order = Db.DataSource.CreateCommand(
            "select string_agg(event_id::text, ',' order by id) from outbox.published where id > @last");
        order.Parameters.AddWithValue("last", from + 19);
        Assert.Equal(string.Join(',', messages[5..15].Select(m => m.EventId)), (string?)await order.ExecuteScalarAsync());
    }

    private async Task Exec(string sql)
    {
        await using var command = Db.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
