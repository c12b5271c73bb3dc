using Npgsql;
using NpgsqlTypes;

namespace Outbox.Contracts;

/// <summary>
/// What an application or operator asks of the relay cluster through the database it already shares with it:
/// drain requests (a NOTIFY that every silo hears and the owning one acts on, wherever the partition lives)
/// and the cluster's status.
/// </summary>
public sealed class OutboxClient(NpgsqlDataSource dataSource)
{
    private static readonly string StatusSql = SqlResource.Read(typeof(OutboxClient).Assembly, "Sql.status.sql");

    /// <summary>Asks the owner of <paramref name="partition"/> to drain it now.</summary>
    public async Task RequestDrainAsync(int partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        var count = await GetPartitionCountAsync(cancellationToken).ConfigureAwait(false);
        if (partition >= count)
            throw new ArgumentOutOfRangeException(nameof(partition), partition, $"The outbox has partitions 0 to {count - 1}.");
        await using var command = dataSource.CreateCommand("select outbox.request_drain(@p)");
        command.Parameters.AddWithValue("p", partition);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks for a drain of the partition that holds <paramref name="key"/>; returns that partition.</summary>
    public async Task<int> RequestDrainForKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var partition = OutboxPartitioner.PartitionOf(key, await GetPartitionCountAsync(cancellationToken).ConfigureAwait(false));
        await RequestDrainAsync(partition, cancellationToken).ConfigureAwait(false);
        return partition;
    }

    /// <summary>The deployment's partition count (fixed at the first migration).</summary>
    public async Task<int> GetPartitionCountAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("select partition_count from outbox.settings");
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException("The outbox schema has no partition count; run migrate first."));
    }

    /// <summary>Status of every partition, or of one.</summary>
    public async Task<IReadOnlyList<PartitionStatus>> GetStatusAsync(int? partition = null, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(StatusSql);
        command.Parameters.Add(new NpgsqlParameter("partition", NpgsqlDbType.Integer) { Value = (object?)partition ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<PartitionStatus>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new PartitionStatus(
                Partition: reader.GetInt32(0),
                Owner: reader.IsDBNull(1) ? null : reader.GetString(1),
                Epoch: reader.GetInt64(2),
                Paused: reader.GetBoolean(3),
                ActivatedAt: reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                LastPublishedAt: reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                Backlog: reader.GetInt64(6),
                Scheduled: reader.GetInt64(7),
                Parked: reader.GetInt64(8),
                OldestPendingAgeSeconds: reader.IsDBNull(9) ? null : reader.GetDouble(9)));
        }
        return result;
    }
}
