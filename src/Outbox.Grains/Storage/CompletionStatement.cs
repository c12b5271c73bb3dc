using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>
/// Runs complete.sql for the completions of any number of partitions at once, on one connection of the relay's pool
/// that the completer keeps. Completions commit durably (synchronous_commit on, which the relay's pool turns off for
/// its other statements): a removal lost in a crash of PostgreSQL would bring a published row back, to be published
/// again, and in exactly-once mode after the next Kafka transaction committed, where no reconciliation finds it. One
/// completion covers many partitions' batches, so its WAL flush costs little per row. Not thread-safe: one completer
/// loop uses it.
/// </summary>
internal sealed class CompletionStatement(NpgsqlDataSource dataSource, bool auditPublished) : IAsyncDisposable
{
    private static readonly string CompleteSql = SqlResource.Read(typeof(CompletionStatement).Assembly, "Sql.complete.sql");

    private NpgsqlConnection? _connection;

    /// <summary>Completes each partition's batch under its epoch; returns each partition's result.</summary>
    public async Task<IReadOnlyDictionary<int, CompletionResult>> CompleteAsync(IReadOnlyList<(int Partition, long Epoch, BatchCompletion Completion)> batches,
        CancellationToken cancellationToken)
    {
        var connection = _connection ??= await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(CompleteSql, connection);
        var p = command.Parameters;
        p.AddWithValue("audit", auditPublished);
        p.Add(Array("partitions", NpgsqlDbType.Integer, batches.Select(b => b.Partition)));
        p.Add(Array("epochs", NpgsqlDbType.Bigint, batches.Select(b => b.Epoch)));
        var published = batches.SelectMany(b => b.Completion.Published.Select(r => (b.Partition, r))).ToArray();
        p.Add(Array("published_partitions", NpgsqlDbType.Integer, published.Select(x => x.Partition)));
        p.Add(Array("published_ids", NpgsqlDbType.Bigint, published.Select(x => x.r.Id)));
        p.Add(Array("published_events", NpgsqlDbType.Uuid, published.Select(x => x.r.EventId)));
        var parked = batches.SelectMany(b => b.Completion.Parked.Select(r => (b.Partition, r.Row, r.Reason))).ToArray();
        p.Add(Array("parked_partitions", NpgsqlDbType.Integer, parked.Select(x => x.Partition)));
        p.Add(Array("parked_ids", NpgsqlDbType.Bigint, parked.Select(x => x.Row.Id)));
        p.Add(Array("parked_events", NpgsqlDbType.Uuid, parked.Select(x => x.Row.EventId)));
        p.Add(Array("parked_reasons", NpgsqlDbType.Text, parked.Select(x => x.Reason)));
        var held = batches.SelectMany(b => b.Completion.Held.Select(r => (b.Partition, r))).ToArray();
        p.Add(Array("held_partitions", NpgsqlDbType.Integer, held.Select(x => x.Partition)));
        p.Add(Array("held_ids", NpgsqlDbType.Bigint, held.Select(x => x.r.Id)));
        p.Add(Array("held_events", NpgsqlDbType.Uuid, held.Select(x => x.r.EventId)));
        var results = new Dictionary<int, CompletionResult>(batches.Count);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                results[reader.GetInt32(0)] = new CompletionResult(reader.GetBoolean(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3));
        }
        return results;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var durable = new NpgsqlCommand("set synchronous_commit = on", connection);
            await durable.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Drops the connection (after a failure): the next completion opens a new one.</summary>
    public async ValueTask ResetAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ResetAsync();

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };
}
