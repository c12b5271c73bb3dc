using Npgsql;
using Outbox.Contracts;

namespace Outbox.Grains.Storage;

/// <summary>Tells an activation whether its epoch is still the partition's current one.</summary>
internal sealed class OwnershipCheck(NpgsqlDataSource dataSource)
{
    private static readonly string CurrentEpochSql = SqlResource.Read(typeof(OwnershipCheck).Assembly, "Sql.current_epoch.sql");

    /// <summary>Throws <see cref="PartitionFencedException"/> when a newer epoch of the partition exists.</summary>
    public async Task EnsureCurrentAsync(int partition, long epoch, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CurrentEpochSql);
        command.Parameters.AddWithValue("partition", partition);
        var current = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (current is not long value || value != epoch) throw new PartitionFencedException(partition, epoch);
    }
}
