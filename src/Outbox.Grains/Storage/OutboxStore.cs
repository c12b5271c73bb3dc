using Npgsql;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>
/// Takes a partition's ownership epoch on activation, and tells whether one is still current, on connections of the
/// relay's own bounded pool.
/// </summary>
internal sealed class OutboxStore(NpgsqlDataSource dataSource)
{
    private static readonly string ActivateSql = SqlResource.Read(typeof(OutboxStore).Assembly, "Sql.activate_partition.sql");

    /// <summary>
    /// Takes a new ownership epoch for <paramref name="partition"/> with <paramref name="owner"/> as its owner. Commits
    /// durably even on the relay's asynchronously committing connections: a forgotten epoch would let a zombie write again.
    /// </summary>
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

    /// <summary>
    /// Whether <paramref name="epoch"/> still owns <paramref name="partition"/>: a read of its own, not a completion, so
    /// that it never waits behind other partitions' removals (a removal waiting for a row lock holds the completer).
    /// </summary>
    public async Task<bool> IsCurrentAsync(int partition, long epoch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select exists (select 1 from outbox.partitions where partition = @partition and epoch = @epoch)");
        command.Parameters.AddWithValue("partition", partition);
        command.Parameters.AddWithValue("epoch", epoch);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
