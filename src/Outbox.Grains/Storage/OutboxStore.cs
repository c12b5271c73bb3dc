using Npgsql;
using NpgsqlTypes;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>
/// The relay's database access: activate a partition, read its next batch, complete a batch, find the next
/// reminder. Every call borrows a connection from the relay's own bounded pool only for one statement, so
/// no connection is held while Kafka is being awaited.
/// </summary>
internal sealed class OutboxStore(NpgsqlDataSource dataSource, bool auditPublished)
{
    private static readonly string ActivateSql = Read("activate_partition.sql");
    private static readonly string ReadBatchSql = Read("read_batch.sql");
    private static readonly string CompleteBatchSql = Read("complete_batch.sql");
    private static readonly string NextDueSql = Read("next_due.sql");
    private static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <summary>Takes a new ownership epoch for <paramref name="partition"/>.</summary>
    public async Task<long> ActivateAsync(int partition, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var durable = new NpgsqlCommand("set local synchronous_commit = on", connection, tx))
            await durable.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ActivateSql, connection, tx);
        command.Parameters.AddWithValue("partition", partition);
        command.Parameters.AddWithValue("owner", owner);
        var epoch = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Partition {partition} does not exist in outbox.partitions; run migrate with the deployment's partition count.");
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return (long)epoch;
    }

    /// <summary>Every id at or below its <see cref="SettledHorizon.Settled"/> belongs to a finished transaction; fed by every read.</summary>
    public SettledHorizon Horizon { get; } = new();

    /// <summary>
    /// Up to <paramref name="limit"/> due rows of the partition from id <paramref name="start"/> on (or from a lower
    /// row that became publishable again), oldest first, ending at the row whose payload reaches
    /// <paramref name="maxBytes"/>, and leaving out <paramref name="inFlight"/> (ascending ids of the batch being
    /// completed meanwhile).
    /// </summary>
    public async Task<BatchRead> ReadBatchAsync(int partition, long epoch, long start, IReadOnlyList<long> inFlight, int limit,
        int maxBytes, CancellationToken cancellationToken)
    {
        var settledBefore = Horizon.Settled;
        var sequenceBefore = Horizon.SequenceSeen;
        await using var command = dataSource.CreateCommand(ReadBatchSql);
        var p = command.Parameters;
        p.AddWithValue("partition", partition);
        p.AddWithValue("epoch", epoch);
        p.AddWithValue("start", start);
        p.Add(new NpgsqlParameter("in_flight", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = inFlight.ToArray() });
        p.AddWithValue("in_flight_last", inFlight.Count > 0 ? inFlight[^1] : 0L);
        p.AddWithValue("limit", limit);
        p.AddWithValue("max_bytes", (long)maxBytes);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<OutboxRow>(Math.Min(limit, 1024));
        BatchRead.Header? header = null;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.IsDBNull(0))
            {
                // The header row (read_batch.sql): where the read began, the last id handed out, the statement's
                // snapshot, whether the partition was readable.
                header = new BatchRead.Header(ReadFrom: reader.GetInt64(10), Sequence: reader.GetInt64(11),
                    Snapshot: new TransactionSnapshot(reader.GetInt64(12), reader.GetInt64(13), reader.GetFieldValue<long[]>(14).ToHashSet()),
                    Readable: reader.GetBoolean(15));
                continue;
            }
            rows.Add(new OutboxRow(
                Id: reader.GetInt64(0),
                EventId: reader.GetGuid(1),
                Topic: reader.GetString(2),
                Key: reader.GetString(3),
                Payload: reader.GetFieldValue<byte[]>(4),
                HeadersJson: reader.IsDBNull(5) ? null : reader.GetString(5),
                EventType: reader.IsDBNull(6) ? null : reader.GetString(6),
                CreatedAt: reader.GetFieldValue<DateTimeOffset>(7),
                Traceparent: reader.IsDBNull(8) ? null : reader.GetString(8),
                Tracestate: reader.IsDBNull(9) ? null : reader.GetString(9)));
        }
        if (header is null) throw new InvalidOperationException("read_batch.sql returned no header row.");
        Horizon.Observe(sequenceBefore, header.Sequence, header.Snapshot);
        // A paused or fenced read saw nothing, so it allows the read position nothing.
        return new BatchRead(rows, header.ReadFrom, header.Readable ? settledBefore : 0);
    }

    /// <summary>Removes acknowledged rows and parks rejected ones; throws <see cref="PartitionFencedException"/> if a newer epoch exists.</summary>
    public async Task<CompletionResult> CompleteAsync(int partition, long epoch, BatchCompletion completion, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CompleteBatchSql);
        var p = command.Parameters;
        p.AddWithValue("partition", partition);
        p.AddWithValue("epoch", epoch);
        p.AddWithValue("audit", auditPublished);
        p.Add(new NpgsqlParameter("published_ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = completion.PublishedIds.ToArray() });
        p.Add(new NpgsqlParameter("parked_ids", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = completion.Parked.Select(x => x.Id).ToArray() });
        p.Add(new NpgsqlParameter("parked_reasons", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = completion.Parked.Select(x => x.Reason).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (reader.GetInt64(0) == 0) throw new PartitionFencedException(partition, epoch);
        return new CompletionResult(Fenced: false, Removed: (int)reader.GetInt64(1), Parked: (int)reader.GetInt64(2));
    }

    /// <summary>How long until the partition's next scheduled message can go (zero if one is due now), or null when none is waiting.</summary>
    public async Task<TimeSpan?> TimeUntilNextDueAsync(int partition, long epoch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(NextDueSql);
        command.Parameters.AddWithValue("partition", partition);
        command.Parameters.AddWithValue("epoch", epoch);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        // Clamped here too, so no value the database returns can overflow TimeSpan (the relay sweeps meanwhile anyway).
        return value is double seconds ? TimeSpan.FromSeconds(Math.Clamp(seconds, 0, MaxWait.TotalSeconds)) : null;
    }

    private static string Read(string file) => SqlResource.Read(typeof(OutboxStore).Assembly, "Sql." + file);
}
