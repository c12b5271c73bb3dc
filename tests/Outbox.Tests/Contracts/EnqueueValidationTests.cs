using System.Globalization;
using Npgsql;
using Outbox.Contracts;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Contracts;

/// <summary>Bad input gets a clear error before anything is written, from C# and from SQL alike.</summary>
public sealed class EnqueueValidationTests : IAsyncLifetime
{
    private readonly TestDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    public static TheoryData<string, OutboxMessage> InvalidMessages => new()
    {
        { "empty topic", new OutboxMessage("", "k", new byte[1]) },
        { "topic with a space", new OutboxMessage("my topic", "k", new byte[1]) },
        { "topic '..'", new OutboxMessage("..", "k", new byte[1]) },
        { "topic too long", new OutboxMessage(new string('t', 250), "k", new byte[1]) },
        { "empty key", new OutboxMessage("t", "", new byte[1]) },
        { "key too long", new OutboxMessage("t", new string('k', 1025), new byte[1]) },
        { "payload too large", new OutboxMessage("t", "k", new byte[OutboxLimits.MaxPayloadBytes + 1]) },
        { "empty event id", new OutboxMessage("t", "k", new byte[1]) { EventId = Guid.Empty } },
        { "empty event type", new OutboxMessage("t", "k", new byte[1]) { EventType = "" } },
        { "reserved header", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { ["outbox-event-id"] = "x" } } },
        { "traceparent header", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { ["traceparent"] = "x" } } },
        { "empty header name", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { [""] = "x" } } },
        { "header too long", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { ["h"] = new string('x', 9000) } } },
        // PostgreSQL refuses NUL in text (22021): refused here, by name, rather than as a database error mid-transaction.
        { "NUL in the key", new OutboxMessage("t", "k\0", new byte[1]) },
        { "NUL in the event type", new OutboxMessage("t", "k", new byte[1]) { EventType = "a\0b" } },
        { "NUL in a header name", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { ["h\0"] = "x" } } },
        { "NUL in a header value", new OutboxMessage("t", "k", new byte[1]) { Headers = new Dictionary<string, string> { ["h"] = "x\0" } } },
    };

    [Theory]
    [MemberData(nameof(InvalidMessages))]
    public async Task InvalidMessagesAreRejectedAndNothingIsWritten(string because, OutboxMessage invalid)
    {
        await using var connection = await _db.DataSource.OpenConnectionAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var valid = new OutboxMessage("orders", "k", new byte[1]);

        var error = await Assert.ThrowsAsync<OutboxValidationException>(() => tx.EnqueueAsync([valid, invalid]));

        Assert.False(string.IsNullOrWhiteSpace(error.Message), because);
        await tx.CommitAsync();
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Theory]
    [InlineData("select outbox.enqueue('bad topic!', 'k', '\\x00'::bytea)", "invalid Kafka topic name")]
    [InlineData("select outbox.enqueue('t', '', '\\x00'::bytea)", "key must be 1 to 1024 bytes")]
    [InlineData("select outbox.enqueue('t', 'k', null)", "payload must be present")]
    [InlineData("select outbox.enqueue('t', 'k', '\\x00'::bytea, '[1,2]'::jsonb)", "headers must be a JSON object")]
    [InlineData("select outbox.enqueue('t', 'k', '\\x00'::bytea, '{\"outbox-x\":\"v\"}'::jsonb)", "header values must be strings")]
    [InlineData("select outbox.enqueue('t', 'k', '\\x00'::bytea, '{\"n\":1}'::jsonb)", "header values must be strings")]
    public async Task TheSqlFunctionRejectsWhatTheCSharpApiRejects(string sql, string expected)
    {
        await using var command = _db.DataSource.CreateCommand(sql);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Contains(expected, error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    /// <summary>A plain INSERT or COPY computes its partition itself: one outside the outbox's partitions no relay would ever own.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(TestDatabase.Partitions)]
    public async Task APlainInsertIntoAPartitionThatDoesNotExistIsRefused(int partition)
    {
        await using var command = _db.DataSource.CreateCommand(
            $"insert into outbox.messages (partition, event_id, topic, key, payload) values ({partition}, gen_random_uuid(), 't', 'k', '\\x00')");

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal("22023", error.SqlState);
        Assert.Contains($"partition {partition} does not exist", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(0, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Fact]
    public async Task EnqueueingSendsNoNotifyInTheWritersTransactionUnlessTheDatabaseOptsIn()
    {
        await using var listener = await _db.DataSource.OpenConnectionAsync();
        var notified = new List<string>();
        listener.Notification += (_, e) => notified.Add(e.Payload);
        await using (var listen = new NpgsqlCommand("listen outbox_drain", listener)) await listen.ExecuteNonQueryAsync();

        await using (var connection = await _db.DataSource.OpenConnectionAsync())
        {
            await using var rolledBack = await connection.BeginTransactionAsync();
            await using (var enqueue = new NpgsqlCommand("select outbox.enqueue_json('orders', 'order-1', '{\"a\":1}')", connection, rolledBack))
                await enqueue.ExecuteNonQueryAsync();
            await rolledBack.RollbackAsync();
            // By default neither the SQL function nor the C# API notifies: the commit stays free of NOTIFY's lock.
            await using (var committed = await connection.BeginTransactionAsync())
            {
                await using (var enqueue = new NpgsqlCommand("select outbox.enqueue_json('orders', 'order-2', '{\"a\":2}')", connection, committed))
                    await enqueue.ExecuteNonQueryAsync();
                await committed.EnqueueAsync(new OutboxMessage("orders", "order-3", new byte[1]));
                await committed.CommitAsync();
            }
            // Opted in (here for the session; a DBA would set it on the database), the commit notifies the partition.
            await using (var optIn = new NpgsqlCommand("set outbox.notify_on_enqueue = on", connection)) await optIn.ExecuteNonQueryAsync();
            await using var notifying = await connection.BeginTransactionAsync();
            await using (var enqueue = new NpgsqlCommand("select outbox.enqueue_json('orders', 'order-4', '{\"a\":4}')", connection, notifying))
                await enqueue.ExecuteNonQueryAsync();
            await notifying.CommitAsync();
        }
        await listener.WaitAsync(TimeSpan.FromSeconds(5));

        // Notifications arrive in commit order: had order-2 or order-3 notified, theirs would be here first.
        Assert.Equal([OutboxPartitioner.PartitionOf("order-4", TestDatabase.Partitions).ToString(CultureInfo.InvariantCulture)], notified);
        var expectedPartition = OutboxPartitioner.PartitionOf("order-2", TestDatabase.Partitions);
        Assert.Equal(expectedPartition, await _db.ScalarAsync("select partition from outbox.messages where key = 'order-2'"));
        Assert.Equal(3, await _db.ScalarAsync("select count(*) from outbox.messages"));
    }

    [Fact]
    public async Task MigratingWithAnotherPartitionCountIsRefused()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new Outbox.Contracts.Schema.OutboxMigrator(_db.DataSource).MigrateAsync(TestDatabase.Partitions * 2, CancellationToken.None));
        Assert.Contains($"created with {TestDatabase.Partitions} partitions", error.Message, StringComparison.Ordinal);
    }
}
