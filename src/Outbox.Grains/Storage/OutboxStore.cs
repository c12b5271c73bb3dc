using Npgsql;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>Takes a partition's ownership epoch on activation, on a connection of the relay's own bounded pool.</summary>
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
}
