using Npgsql;
using NpgsqlTypes;
using Orleans.Runtime;
using Outbox.Contracts;

namespace Outbox.Grains;

/// <summary>
/// What an application or operator asks of the relay cluster: drain requests and the cluster's status. With an
/// Orleans cluster client (<paramref name="grains"/>: an <see cref="IClusterClient"/> connected through a silo
/// gateway, or a silo's own grain factory) a drain request is a call to the partition's grain, wherever it
/// lives. Without one it goes through the database: <c>outbox.request_drain()</c> notifies, and the silo whose
/// partition it is makes that same grain call.
/// </summary>
public sealed class OutboxClient(NpgsqlDataSource dataSource, IGrainFactory? grains = null)
{
    private static readonly string StatusSql = SqlResource.Read(typeof(OutboxClient).Assembly, "Sql.status.sql");

    /// <summary>Attempts of a drain call that met a dead or moving activation (Orleans re-routes each new attempt).</summary>
    private const int DrainAttempts = 5;

    /// <summary>Asks the owner of <paramref name="partition"/> to drain it now.</summary>
    public async Task RequestDrainAsync(int partition, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        var count = await GetPartitionCountAsync(cancellationToken).ConfigureAwait(false);
        if (partition >= count)
            throw new ArgumentOutOfRangeException(nameof(partition), partition, $"The outbox has partitions 0 to {count - 1}.");
        if (grains is not null)
        {
            await DrainThroughGrainAsync(grains, partition, cancellationToken).ConfigureAwait(false);
            return;
        }
        await using var command = dataSource.CreateCommand("select outbox.request_drain(@p)");
        command.Parameters.AddWithValue("p", partition);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The grain call. When the silo that held the partition just died, the call fails once Orleans declared
    /// it dead (or times out); the next attempt is placed afresh on a live silo, so the request is not lost.
    /// </summary>
    private static async Task DrainThroughGrainAsync(IGrainFactory grains, int partition, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IOutboxPartitionGrain>(partition);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await grain.DrainAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < DrainAttempts && e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
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
