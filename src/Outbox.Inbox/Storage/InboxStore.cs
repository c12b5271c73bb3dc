using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace Outbox.Inbox.Storage;

/// <summary>
/// The inbox's statements (embedded <c>Sql/*.sql</c>, parameters only). The hot path is one round trip per batch
/// before the handlers run (claim the ids, read the keys' positions and blocked keys) and, only when something is
/// parked, one after them.
/// </summary>
internal static class InboxStore
{
    private static readonly ConcurrentDictionary<string, string> Statements = new();

    /// <summary>What the database says about a batch before its handlers run.</summary>
    public sealed record BatchState(HashSet<Guid> Claimed, Dictionary<string, long> Positions, HashSet<string> Blocked);

    public static async Task<BatchState> ClaimAsync(NpgsqlTransaction tx, string group, string topic, IReadOnlyList<InboxEvent> events,
        CancellationToken cancellationToken)
    {
        var ids = events.Select(e => e.EventId).ToArray();
        var keys = events.Where(e => e.Key is not null).Select(e => e.Key!).Distinct(StringComparer.Ordinal).ToArray();
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        var claim = Command(batch, "claim.sql", group, topic);
        claim.Parameters.Add(new NpgsqlParameter("event_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
        claim.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Key).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter("sequences", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = events.Select(e => e.Sequence).ToArray() });
        claim.Parameters.Add(new NpgsqlParameter("outbox_partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = events.Select(e => e.OutboxPartition).ToArray() });
        if (keys.Length > 0)
        {
            var positions = Command(batch, "key_positions.sql", group, topic);
            positions.Parameters.Add(new NpgsqlParameter("event_ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = ids });
            positions.Parameters.Add(new NpgsqlParameter("distinct_keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
            var blocked = Command(batch, "blocked_keys.sql", group, topic);
            blocked.Parameters.Add(new NpgsqlParameter("distinct_keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
        }
        var state = new BatchState([], new Dictionary<string, long>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) state.Claimed.Add(reader.GetGuid(0));
        if (keys.Length == 0) return state;
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!reader.IsDBNull(1)) state.Positions[reader.GetString(0)] = reader.GetInt64(1);
        }
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) state.Blocked.Add(reader.GetString(0));
        return state;
    }

    /// <summary>Parks events claimed in <paramref name="tx"/>, in one round trip.</summary>
    public static async Task ParkAsync(NpgsqlTransaction tx, string group, IReadOnlyList<Parking> parkings, CancellationToken cancellationToken)
    {
        if (parkings.Count == 0) return;
        await using var batch = new NpgsqlBatch(tx.Connection, tx);
        foreach (var parking in parkings)
        {
            var e = parking.Event;
            var park = Command(batch, "park.sql", group, e.Topic);
            park.Parameters.AddWithValue("event_id", e.EventId);
            park.Parameters.AddWithValue("kafka_partition", e.Partition);
            park.Parameters.AddWithValue("kafka_offset", e.Offset);
            park.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)e.Key ?? DBNull.Value });
            park.Parameters.Add(new NpgsqlParameter("sequence", NpgsqlDbType.Bigint) { Value = (object?)e.Sequence ?? DBNull.Value });
            park.Parameters.Add(new NpgsqlParameter("outbox_partition", NpgsqlDbType.Integer) { Value = (object?)e.OutboxPartition ?? DBNull.Value });
            park.Parameters.Add(new NpgsqlParameter("event_type", NpgsqlDbType.Text) { Value = (object?)e.EventType ?? DBNull.Value });
            park.Parameters.Add(new NpgsqlParameter("header_names", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = e.Headers.Select(h => h.Key).ToArray() });
            park.Parameters.Add(new NpgsqlParameter("header_values", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = e.Headers.Select(h => h.Value).ToArray() });
            park.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Bytea) { Value = e.Payload.ToArray() });
            park.Parameters.AddWithValue("reason", parking.Reason);
            park.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)parking.Error ?? DBNull.Value });
            park.Parameters.AddWithValue("attempts", parking.Attempts);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parked events of one Kafka partition that may be applied now (see releasable.sql), in Kafka order.</summary>
    public static async Task<IReadOnlyList<ParkedEvent>> ReleasableAsync(NpgsqlDataSource dataSource, string group, string topic, int partition,
        int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql("releasable.sql"));
        command.Parameters.AddWithValue("group", group);
        command.Parameters.AddWithValue("topic", topic);
        command.Parameters.AddWithValue("kafka_partition", partition);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var released = new List<ParkedEvent>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var names = reader.GetFieldValue<string[]>(8);
            var values = reader.GetFieldValue<byte[][]>(9);
            var inboxEvent = new InboxEvent
            {
                EventId = reader.GetGuid(1),
                Partition = reader.GetInt32(2),
                Offset = reader.GetInt64(3),
                Key = reader.IsDBNull(4) ? null : reader.GetString(4),
                Sequence = reader.IsDBNull(5) ? null : reader.GetInt64(5),
                OutboxPartition = reader.IsDBNull(6) ? null : reader.GetInt32(6),
                EventType = reader.IsDBNull(7) ? null : reader.GetString(7),
                Headers = names.Zip(values, (n, v) => new KeyValuePair<string, byte[]>(n, v)).ToArray(),
                Payload = reader.IsDBNull(10) ? ReadOnlyMemory<byte>.Empty : reader.GetFieldValue<byte[]>(10),
                Topic = topic,
            };
            released.Add(new ParkedEvent(reader.GetInt64(0), inboxEvent with { CreatedAt = null }, reader.GetString(11), reader.GetInt32(12)));
        }
        return released;
    }

    /// <summary>Removes a parked event in the transaction that applies it; false when an operator discarded it meanwhile.</summary>
    public static async Task<bool> UnparkAsync(NpgsqlTransaction tx, long id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql("unpark.sql"), tx.Connection, tx);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>A released parked event failed again: it stays parked, as failed.</summary>
    public static async Task ParkAgainAsync(NpgsqlDataSource dataSource, long id, int attempts, string error, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql("park_again.sql"));
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("attempts", attempts);
        command.Parameters.AddWithValue("error", error);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes one small batch of the group's expired ids; returns how many.</summary>
    public static async Task<int> PurgeAsync(NpgsqlDataSource dataSource, string group, TimeSpan retention, int batchSize, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql("purge.sql"));
        command.Parameters.AddWithValue("group", group);
        command.Parameters.AddWithValue("retention", retention);
        command.Parameters.AddWithValue("batch", batchSize);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlBatchCommand Command(NpgsqlBatch batch, string file, string group, string topic)
    {
        var command = new NpgsqlBatchCommand(Sql(file));
        command.Parameters.AddWithValue("group", group);
        command.Parameters.AddWithValue("topic", topic);
        batch.BatchCommands.Add(command);
        return command;
    }

    /// <summary>The text of an embedded statement (Sql/<paramref name="file"/>).</summary>
    internal static string Sql(string file) =>
        Statements.GetOrAdd(file, static f =>
        {
            using var stream = typeof(InboxStore).Assembly.GetManifestResourceStream("Outbox.Inbox.Sql." + f)
                ?? throw new InvalidOperationException($"Embedded SQL 'Sql/{f}' is missing.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        });
}

/// <summary>An event to park in the batch's transaction: why, with the handler's last error for a failed one.</summary>
internal sealed record Parking(InboxEvent Event, string Reason, string? Error = null, int Attempts = 0);

/// <summary>A parked event read back to be applied: its row id, the event, why it was parked and how often it failed.</summary>
internal sealed record ParkedEvent(long Id, InboxEvent Event, string Reason, int Attempts);
