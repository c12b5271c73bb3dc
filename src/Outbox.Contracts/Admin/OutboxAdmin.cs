using Npgsql;
using NpgsqlTypes;

namespace Outbox.Contracts.Admin;

/// <summary>
/// The operator's tools, shared by the CLI and the silo's HTTP admin endpoints: list, retry and discard parked
/// messages, pause and resume partitions, replay audited messages. Input is validated here (bad input throws
/// <see cref="ArgumentException"/>, an unknown partition or an empty match <see cref="OutboxNotFoundException"/>)
/// and reaches SQL only as parameters of the embedded statements.
/// </summary>
public sealed class OutboxAdmin(NpgsqlDataSource dataSource)
{
    private static readonly string ListParkedSql = Read("list_parked.sql");
    private static readonly string RetryParkedSql = Read("retry_parked.sql");
    private static readonly string DiscardParkedSql = Read("discard_parked.sql");
    private static readonly string SetPausedSql = Read("set_paused.sql");
    private static readonly string ReplaySql = Read("replay.sql");
    private static readonly string PartitionExistsSql = Read("partition_exists.sql");

    /// <summary>Parked messages, oldest first per partition; of one partition and/or one key when given.</summary>
    public async Task<IReadOnlyList<ParkedMessage>> ListParkedAsync(int? partition, string? key, int limit, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > AdminLimits.MaxListLimit)
            throw new ArgumentException($"Limit must be between 1 and {AdminLimits.MaxListLimit}, not {limit}.", nameof(limit));
        if (key is not null) AdminLimits.ValidateKey(key);
        if (partition is { } p) await EnsurePartitionAsync(p, cancellationToken).ConfigureAwait(false);

        await using var command = dataSource.CreateCommand(ListParkedSql);
        command.Parameters.Add(new NpgsqlParameter("partition", NpgsqlDbType.Integer) { Value = (object?)partition ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)key ?? DBNull.Value });
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var parked = new List<ParkedMessage>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            parked.Add(new ParkedMessage(
                Partition: reader.GetInt32(0),
                Id: reader.GetInt64(1),
                EventId: reader.GetGuid(2),
                Topic: reader.GetString(3),
                Key: reader.GetString(4),
                Attempts: reader.GetInt32(5),
                ParkedAt: reader.GetFieldValue<DateTimeOffset>(6),
                Reason: reader.IsDBNull(7) ? null : reader.GetString(7),
                PayloadBytes: reader.GetInt32(8),
                CreatedAt: reader.GetFieldValue<DateTimeOffset>(9),
                Waiting: reader.GetInt64(10)));
        }
        return parked;
    }

    /// <summary>Un-parks the selected messages so they are published again (first in their keys' order); returns how many.</summary>
    public async Task<int> RetryParkedAsync(ParkedSelection selection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        selection.Validate();
        await EnsurePartitionAsync(selection.Partition, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(RetryParkedSql);
        AddSelection(command, selection);
        return await CountOrNotFoundAsync(command, selection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves the selected parked messages to outbox.discarded with who and why; returns how many.</summary>
    public async Task<int> DiscardParkedAsync(ParkedSelection selection, string discardedBy, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selection);
        selection.Validate();
        AdminLimits.ValidateText(discardedBy, "Operator", AdminLimits.MaxOperatorLength);
        AdminLimits.ValidateText(reason, "Reason", AdminLimits.MaxReasonLength);
        await EnsurePartitionAsync(selection.Partition, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(DiscardParkedSql);
        AddSelection(command, selection);
        command.Parameters.AddWithValue("discarded_by", discardedBy);
        command.Parameters.AddWithValue("reason", reason);
        return await CountOrNotFoundAsync(command, selection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops (after the batch in flight) or resumes publishing of a partition.</summary>
    public async Task SetPausedAsync(int partition, bool paused, CancellationToken cancellationToken = default)
    {
        AdminLimits.ValidatePartition(partition);
        await using var command = dataSource.CreateCommand(SetPausedSql);
        command.Parameters.AddWithValue("partition", partition);
        command.Parameters.AddWithValue("paused", paused);
        var changed = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (changed == 0) throw UnknownPartition(partition);
    }

    /// <summary>Copies audited messages of the range back into the outbox (same event ids); returns how many.</summary>
    public async Task<int> ReplayAsync(ReplayRange range, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(range);
        range.Validate();
        if (range.Partition is { } p) await EnsurePartitionAsync(p, cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(ReplaySql);
        command.Parameters.AddWithValue("from_id", range.FromId);
        command.Parameters.AddWithValue("to_id", range.ToId);
        command.Parameters.Add(new NpgsqlParameter("partition", NpgsqlDbType.Integer) { Value = (object?)range.Partition ?? DBNull.Value });
        var replayed = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (replayed == 0)
            throw new OutboxNotFoundException($"No audited (published) message has an id in {range.FromId}..{range.ToId}" +
                (range.Partition is { } q ? $" in partition {q}." : ".") + " Audit copies exist only while Relay:AuditRetention is set.");
        return (int)replayed;
    }

    private async Task EnsurePartitionAsync(int partition, CancellationToken cancellationToken)
    {
        AdminLimits.ValidatePartition(partition);
        await using var command = dataSource.CreateCommand(PartitionExistsSql);
        command.Parameters.AddWithValue("partition", partition);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!) throw UnknownPartition(partition);
    }

    private static OutboxNotFoundException UnknownPartition(int partition) =>
        new($"There is no partition {partition} in this outbox (see `status` for the partitions).");

    private static void AddSelection(NpgsqlCommand command, ParkedSelection selection)
    {
        command.Parameters.AddWithValue("partition", selection.Partition);
        command.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Bigint) { Value = (object?)selection.Id ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Text) { Value = (object?)selection.Key ?? DBNull.Value });
    }

    private static async Task<int> CountOrNotFoundAsync(NpgsqlCommand command, ParkedSelection selection, CancellationToken cancellationToken)
    {
        var count = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (count == 0)
        {
            var what = selection switch
            {
                { Id: { } id } => $"message {id}",
                { Key: { } key } => $"message of key '{key}'",
                _ => "message",
            };
            throw new OutboxNotFoundException($"No parked {what} in partition {selection.Partition}.");
        }
        return (int)count;
    }

    private static string Read(string file) => SqlResource.Read(typeof(OutboxAdmin).Assembly, "Sql.Admin." + file);
}
