using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>
/// The statements of a silo's relay cycle (snapshot.sql, feed.sql, maintain.sql, sweep.sql), run one after the
/// other on one connection of the relay's pool that the cycle keeps: no pool round trip and reset per statement, and
/// every statement's snapshot is later than the previous one's, which the feed's hand-over to catch-up reads relies on.
/// Not thread-safe: one cycle loop uses it.
/// </summary>
internal sealed class ChangeFeed(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    private static readonly string FeedSql = Read("feed.sql");
    private static readonly string MaintainSql = Read("maintain.sql");
    private static readonly string SweepSql = Read("sweep.sql");
    private static readonly string SnapshotSql = Read("snapshot.sql");

    private NpgsqlConnection? _connection;

    /// <summary>The current snapshot's running transactions, to tell whether a feed window would hold anything.</summary>
    public async Task<FeedSnapshot> ProbeAsync(CancellationToken cancellationToken)
    {
        await using var command = await CommandAsync(SnapshotSql, cancellationToken).ConfigureAwait(false);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new FeedSnapshot(reader.GetInt64(0), reader.GetFieldValue<long[]>(1));
    }

    /// <summary>
    /// The rows of this silo's partitions that became visible after <paramref name="since"/> (null: none, the feed
    /// starts at this statement's snapshot).
    /// </summary>
    public async Task<FeedResult> ReadAsync(string owner, FeedSnapshot? since, int limit, CancellationToken cancellationToken)
    {
        await using var command = await CommandAsync(FeedSql, cancellationToken).ConfigureAwait(false);
        var p = command.Parameters;
        p.AddWithValue("owner", owner);
        p.AddWithValue("window", since is not null);
        p.AddWithValue("prev_xmax", since?.Xmax ?? 0L);
        p.Add(new NpgsqlParameter("prev_xip", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = since?.Xip ?? [] });
        p.AddWithValue("limit", limit);
        var sent = UnixMicros();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var times = new ReadTimes(sent, UnixMicros());
        FeedSnapshot? snapshot = null;
        DateTime incarnation = default;
        var overflow = false;
        var rows = new List<FeedRow>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.IsDBNull(0))
            {
                snapshot = new FeedSnapshot(reader.GetInt64(14), reader.GetFieldValue<long[]>(15));
                incarnation = reader.GetDateTime(16);
                overflow = reader.GetBoolean(17);
                continue;
            }
            var state = reader.GetString(12) switch
            {
                "publish" => FeedRowState.Publish,
                "scheduled" => FeedRowState.Scheduled,
                "parked" => FeedRowState.Parked,
                "blocked" => FeedRowState.Blocked,
                _ => FeedRowState.Paused,
            };
            rows.Add(new FeedRow(reader.GetInt32(0), reader.GetInt64(11), ReadRow(reader, payload: state == FeedRowState.Publish, times), state,
                reader.IsDBNull(13) ? null : Seconds(reader.GetDouble(13))));
        }
        return new FeedResult(snapshot ?? throw new InvalidOperationException("feed.sql returned no header row."), incarnation, overflow, rows);
    }

    /// <summary>Runs catch-up reads, releases and marks together (maintain.sql).</summary>
    public async Task<MaintenanceResult> MaintainAsync(string owner, MaintenanceRequest request, int readLimit, long readBytes, int releaseLimit,
        CancellationToken cancellationToken)
    {
        await using var command = await CommandAsync(MaintainSql, cancellationToken).ConfigureAwait(false);
        var p = command.Parameters;
        p.AddWithValue("owner", owner);
        p.Add(Array("read_partitions", NpgsqlDbType.Integer, request.Reads, r => r.Partition));
        p.Add(Array("read_epochs", NpgsqlDbType.Bigint, request.Reads, r => r.Epoch));
        p.Add(Array("read_cursors", NpgsqlDbType.Bigint, request.Reads, r => r.Cursor));
        p.AddWithValue("read_limit", readLimit);
        p.AddWithValue("read_bytes", readBytes);
        p.Add(new NpgsqlParameter("release_partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = request.Releases.ToArray() });
        p.AddWithValue("release_limit", releaseLimit);
        p.Add(Array("mark_partitions", NpgsqlDbType.Integer, request.Marks, m => m.Partition));
        p.Add(Array("mark_ids", NpgsqlDbType.Bigint, request.Marks, m => m.Id));
        p.Add(Array("mark_events", NpgsqlDbType.Uuid, request.Marks, m => m.EventId));
        var sent = UnixMicros();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var times = new ReadTimes(sent, UnixMicros());
        var rows = new List<(int, OutboxRow)>();
        var reads = new List<ReadSummary>();
        var due = new List<(int, TimeSpan?)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var partition = reader.GetInt32(1);
            var dueIn = reader.IsDBNull(16) ? (TimeSpan?)null : Seconds(reader.GetDouble(16));
            switch (reader.GetString(0))
            {
                case "C":
                    rows.Add((partition, ReadRow(reader, payload: true, times, offset: 1)));
                    break;
                case "R":
                    reads.Add(new ReadSummary(partition, reader.IsDBNull(13) ? null : reader.GetInt64(13), reader.GetBoolean(14),
                        reader.GetBoolean(15), dueIn));
                    break;
                default:
                    due.Add((partition, dueIn));
                    break;
            }
        }
        return new MaintenanceResult(rows, reads, due);
    }

    /// <summary>The periodic look at every partition the silo holds (sweep.sql).</summary>
    public async Task<IReadOnlyList<SweepResult>> SweepAsync(string owner, IReadOnlyDictionary<int, long> epochs, CancellationToken cancellationToken)
    {
        await using var command = await CommandAsync(SweepSql, cancellationToken).ConfigureAwait(false);
        var p = command.Parameters;
        p.AddWithValue("owner", owner);
        p.Add(new NpgsqlParameter("partitions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = epochs.Keys.ToArray() });
        p.Add(new NpgsqlParameter("epochs", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = epochs.Values.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var results = new List<SweepResult>(epochs.Count);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            results.Add(new SweepResult(reader.GetInt32(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : Seconds(reader.GetDouble(2))));
        return results;
    }

    /// <summary>Drops the connection (after a failure): the next statement opens a new one.</summary>
    public async ValueTask ResetAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ResetAsync();

    private async Task<NpgsqlCommand> CommandAsync(string sql, CancellationToken cancellationToken)
    {
        _connection ??= await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return new NpgsqlCommand(sql, _connection);
    }

    /// <summary>The message columns, which every result of the cycle has in this order from <paramref name="offset"/> on.</summary>
    private static OutboxRow ReadRow(NpgsqlDataReader reader, bool payload, ReadTimes times, int offset = 0) => new(
        Id: reader.GetInt64(offset + 1),
        EventId: reader.GetGuid(offset + 2),
        Topic: reader.GetString(offset + 3),
        Key: reader.GetString(offset + 4),
        Payload: payload ? reader.GetFieldValue<byte[]>(offset + 5) : [],
        HeadersJson: reader.IsDBNull(offset + 6) ? null : reader.GetString(offset + 6),
        EventType: reader.IsDBNull(offset + 7) ? null : reader.GetString(offset + 7),
        CreatedAt: reader.GetFieldValue<DateTimeOffset>(offset + 8),
        Traceparent: reader.IsDBNull(offset + 9) ? null : reader.GetString(offset + 9),
        Tracestate: reader.IsDBNull(offset + 10) ? null : reader.GetString(offset + 10)) { Read = times };

    private static long UnixMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds, 0, TimeSpan.FromDays(1).TotalSeconds));

    private static NpgsqlParameter Array<T, TValue>(string name, NpgsqlDbType type, IReadOnlyList<T> items, Func<T, TValue> select)
    {
        var values = new TValue[items.Count];
        for (var i = 0; i < values.Length; i++) values[i] = select(items[i]);
        return new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = values };
    }

    private static string Read(string file) => SqlResource.Read(typeof(ChangeFeed).Assembly, "Sql." + file);
}
