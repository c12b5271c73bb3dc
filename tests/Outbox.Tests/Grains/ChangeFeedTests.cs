using System.Text.Json;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Grains;

/// <summary>
/// The change feed's statement (feed.sql) against the real database, window by window: every committed row is returned
/// by exactly the window its transaction became visible in, whatever order the ids were drawn in, savepoints included;
/// and what a window costs the database does not depend on partitions, nor on a transaction left open elsewhere.
/// </summary>
public sealed class ChangeFeedTests : IAsyncLifetime
{
    private const string Owner = "feed-test";
    private readonly TestDatabase _db = new();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        await _db.ScalarAsync($"update outbox.partitions set owner = '{Owner}', epoch = 1 returning 0");
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task ACommittedRowIsInTheFirstWindowThatSeesItAndInNoOther()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        var ids = await Enqueue.CommitAsync(_db, Enqueue.Event("t", "order-1", 1), Enqueue.Event("t", "order-2", 1));

        var first = await feed.ReadAsync(Owner, start, 1000, CancellationToken.None);
        var second = await feed.ReadAsync(Owner, first.Snapshot, 1000, CancellationToken.None);

        Assert.Equal(ids.Order(), first.Rows.Select(r => r.Row.EventId).Order());
        Assert.All(first.Rows, r => Assert.Equal(FeedRowState.Publish, r.State));
        Assert.Empty(second.Rows);
    }

    [Fact]
    public async Task ARowOfATransactionThatCommitsAfterAHigherIdWasReturnedIsInTheWindowItCommitsIn()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        var lateMessage = Enqueue.Event("t", "order-1", 1);
        await late.EnqueueAsync(lateMessage);
        var early = await Enqueue.CommitAsync(_db, Enqueue.Event("t", "order-2", 1));

        var first = await feed.ReadAsync(Owner, start, 1000, CancellationToken.None);
        await late.CommitAsync();
        var second = await feed.ReadAsync(Owner, first.Snapshot, 1000, CancellationToken.None);

        Assert.Equal(early, first.Rows.Select(r => r.Row.EventId));
        Assert.Equal([lateMessage.EventId], second.Rows.Select(r => r.Row.EventId));
        Assert.True(second.Rows[0].Row.Id < first.Rows[0].Row.Id, "the late row drew the lower id");
    }

    [Fact]
    public async Task ARowWrittenInASavepointIsInTheWindowItsTransactionCommitsInAndOneRolledBackWithItsSavepointIsInNone()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await tx.SaveAsync("kept");
        var kept = Enqueue.Event("t", "order-1", 1);
        await tx.EnqueueAsync(kept);
        await tx.ReleaseAsync("kept");
        await tx.SaveAsync("undone");
        await tx.EnqueueAsync(Enqueue.Event("t", "order-2", 1));
        await tx.RollbackAsync("undone");
        // A transaction that began after the savepoint's commits first, so the window moves past this one's id.
        await Enqueue.CommitAsync(_db, Enqueue.Event("t", "order-3", 1));
        var first = await feed.ReadAsync(Owner, start, 1000, CancellationToken.None);

        await tx.CommitAsync();
        var second = await feed.ReadAsync(Owner, first.Snapshot, 1000, CancellationToken.None);

        Assert.Equal([kept.EventId], second.Rows.Select(r => r.Row.EventId));
    }

    [Fact]
    public async Task RowsOfPartitionsOwnedElsewhereAreNotReturnedAndEachRowCarriesItsPartitionsEpoch()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        var mine = Enqueue.Event("t", "order-1", 1);
        var theirs = Enqueue.Event("t", KeyOutside(OutboxPartitioner.PartitionOf(mine.Key, TestDatabase.Partitions)), 1);
        var theirPartition = OutboxPartitioner.PartitionOf(theirs.Key, TestDatabase.Partitions);
        await _db.ScalarAsync($"update outbox.partitions set owner = 'another-silo' where partition = {theirPartition} returning 0");
        await _db.ScalarAsync($"update outbox.partitions set epoch = 7 where partition = {OutboxPartitioner.PartitionOf(mine.Key, TestDatabase.Partitions)} returning 0");
        await Enqueue.CommitAsync(_db, mine, theirs);

        var window = await feed.ReadAsync(Owner, start, 1000, CancellationToken.None);

        var row = Assert.Single(window.Rows);
        Assert.Equal(mine.EventId, row.Row.EventId);
        Assert.Equal(7, row.Epoch);
    }

    [Fact]
    public async Task RowsBehindAScheduledRowOfTheirKeyAreReportedBlockedAndTheScheduledOneWithItsTime()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        var scheduled = Enqueue.Event("t", "order-1", 1) with { DeliverAt = DateTimeOffset.UtcNow.AddMinutes(5) };
        var behind = Enqueue.Event("t", "order-1", 2);
        var other = Enqueue.Event("t", "order-2", 1);
        await Enqueue.CommitAsync(_db, scheduled, behind, other);

        var rows = (await feed.ReadAsync(Owner, start, 1000, CancellationToken.None)).Rows.ToDictionary(r => r.Row.EventId);

        Assert.Equal(FeedRowState.Scheduled, rows[scheduled.EventId].State);
        Assert.InRange(rows[scheduled.EventId].DueIn!.Value.TotalSeconds, 240, 300);
        Assert.Equal(FeedRowState.Blocked, rows[behind.EventId].State);
        Assert.Empty(rows[behind.EventId].Row.Payload);
        Assert.Equal(FeedRowState.Publish, rows[other.EventId].State);
    }

    [Fact]
    public async Task AWindowWithMoreRowsThanTheLimitOverflows()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var start = await OpenWindowAsync(feed);
        await Enqueue.CommitAsync(_db, Enumerable.Range(1, 11).Select(i => Enqueue.Event("t", "order-" + i, 1)).ToArray());

        Assert.True((await feed.ReadAsync(Owner, start, 10, CancellationToken.None)).Overflow);
        Assert.False((await feed.ReadAsync(Owner, start, 11, CancellationToken.None)).Overflow);
    }

    /// <summary>
    /// The defect of the probe it replaced: a transaction holding an id and having read the outbox kept every probe of
    /// every partition scanning all that was written since it began. The feed looks at the transactions that finished
    /// since its last statement, so one left open costs nothing, however much is written and removed meanwhile.
    /// </summary>
    [Fact]
    public async Task ATransactionLeftOpenDoesNotMakeAWindowReadMore()
    {
        await using var feed = new ChangeFeed(_db.DataSource);
        var quiet = await BuffersOfAnEmptyWindowAsync(feed);
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var open = await connection.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("select count(*) from outbox.messages; select pg_current_xact_id()", connection, open))
            await read.ExecuteNonQueryAsync();
        await using var writer = await _db.DataSource.OpenConnectionAsync();
        await using var inserted = await writer.BeginTransactionAsync();
        await inserted.EnqueueAsync(Enqueue.Event("t", "left-open", 1));

        for (var round = 0; round < 10; round++)
        {
            await Enqueue.CommitAsync(_db, Enumerable.Range(1, 500).Select(i => Enqueue.Event("t", $"order-{round}-{i}", 1)).ToArray());
            await _db.ScalarAsync("with d as (delete from outbox.messages where key <> 'left-open' returning 1) select count(*) from d");
        }
        var busy = await BuffersOfAnEmptyWindowAsync(feed);

        Assert.True(busy <= quiet + 10, $"an empty window read {busy} buffers with a transaction left open for 10,000 rows, {quiet} without");
    }

    /// <summary>The probe scanned each partition it watched; a window's cost is the same for 16 partitions or 1,024.</summary>
    [Fact]
    public async Task AWindowCostsTheSameForAnyNumberOfPartitions()
    {
        var wide = new TestDatabase(TestDatabase.ServerConnectionString);
        await wide.InitializeWithAsync(1024);
        try
        {
            await wide.ScalarAsync($"update outbox.partitions set owner = '{Owner}', epoch = 1 returning 0");
            await using var narrowFeed = new ChangeFeed(_db.DataSource);
            await using var wideFeed = new ChangeFeed(wide.DataSource);

            var narrow = await BuffersOfAnEmptyWindowAsync(narrowFeed, _db);
            var many = await BuffersOfAnEmptyWindowAsync(wideFeed, wide);

            Assert.True(many <= narrow + 5, $"an empty window read {many} buffers with 1,024 partitions, {narrow} with 16");
        }
        finally
        {
            await wide.DisposeAsync();
        }
    }

    private static async Task<FeedSnapshot> OpenWindowAsync(ChangeFeed feed) =>
        (await feed.ReadAsync(Owner, since: null, 1000, CancellationToken.None)).Snapshot;

    /// <summary>
    /// Buffers the feed statement touches for a window in which only unrelated transactions finished (as the relay's own
    /// removals do between two windows), measured with EXPLAIN (ANALYZE, BUFFERS) on the same statement and parameters.
    /// </summary>
    private async Task<long> BuffersOfAnEmptyWindowAsync(ChangeFeed feed, TestDatabase? database = null)
    {
        database ??= _db;
        var since = await OpenWindowAsync(feed);
        await database.ScalarAsync("select pg_current_xact_id()::text::bigint");
        await using var command = database.DataSource.CreateCommand(
            "explain (analyze, buffers, format json) " + Outbox.Contracts.SqlResource.Read(typeof(ChangeFeed).Assembly, "Sql.feed.sql"));
        command.Parameters.AddWithValue("owner", Owner);
        command.Parameters.AddWithValue("window", true);
        command.Parameters.AddWithValue("prev_xmax", since.Xmax);
        command.Parameters.Add(new NpgsqlParameter("prev_xip", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint) { Value = since.Xip });
        command.Parameters.AddWithValue("limit", 1000);
        using var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!);
        var root = plan.RootElement[0].GetProperty("Plan");
        return root.GetProperty("Shared Hit Blocks").GetInt64() + root.GetProperty("Shared Read Blocks").GetInt64();
    }

    private static string KeyOutside(int partition) =>
        Enumerable.Range(0, 1000).Select(i => "other-" + i).First(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) != partition);
}
