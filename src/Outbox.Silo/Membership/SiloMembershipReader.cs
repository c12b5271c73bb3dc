using Npgsql;
using Outbox.Contracts;

namespace Outbox.Silo.Membership;

/// <summary>
/// Reads the cluster's silos from Orleans' membership table (the outbox database's schema <c>orleans</c>) with the
/// partitions each owns: what <c>status</c>, <c>GET /status</c> and the status page show about the cluster.
/// </summary>
internal sealed class SiloMembershipReader(NpgsqlDataSource dataSource)
{
    private static readonly string SilosSql = SqlResource.Read(typeof(SiloMembershipReader).Assembly, "Membership.Sql.silos.sql");

    /// <summary>Every silo incarnation still in the table: live ones first, then the dead, by name.</summary>
    public async Task<IReadOnlyList<SiloMembership>> GetSilosAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(SilosSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var silos = new List<SiloMembership>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            silos.Add(new SiloMembership(
                ClusterId: reader.GetString(0),
                Name: reader.GetString(1),
                Address: reader.GetString(2),
                SiloPort: reader.GetInt32(3),
                GatewayPort: reader.GetInt32(4),
                HostName: reader.GetString(5),
                Status: reader.GetString(6),
                StartedAt: reader.GetFieldValue<DateTimeOffset>(7),
                LastIAmAlive: reader.GetFieldValue<DateTimeOffset>(8),
                Partitions: reader.GetFieldValue<int[]>(9)));
        }
        return silos;
    }
}
