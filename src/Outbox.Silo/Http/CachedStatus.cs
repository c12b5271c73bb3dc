using Npgsql;
using Outbox.Contracts;
using Outbox.Grains;
using Outbox.Grains.Hosting;
using Outbox.Silo.Membership;

namespace Outbox.Silo.Http;

/// <summary>
/// GET /status aggregates over the whole backlog (over a second at 300k rows) and reads the cluster's membership, and
/// it is unauthenticated: at most one refresh runs per silo at a time, and its answer (partitions and silos alike)
/// serves every request for <see cref="MaxAge"/>, so any number of clients cost the database two queries every couple
/// of seconds, and cannot take the status pool's connections from the other users of it.
/// </summary>
internal sealed class CachedStatus(OutboxClient client, [FromKeyedServices(OutboxDataSources.Status)] NpgsqlDataSource database) : IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SiloMembershipReader _membership = new(database);
    private (DateTime At, StatusView Value)? _last;

    public async Task<StatusView> GetAsync(CancellationToken cancellationToken)
    {
        if (_last is { } fresh && DateTime.UtcNow - fresh.At < MaxAge) return fresh.Value;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && DateTime.UtcNow - cached.At < MaxAge) return cached.Value;
            var partitions = await client.GetStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var silos = await _membership.GetSilosAsync(cancellationToken).ConfigureAwait(false);
            var value = new StatusView(partitions, silos);
            _last = (DateTime.UtcNow, value);
            return value;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}

/// <summary>The cluster as /status shows it: every partition and every silo of the membership table.</summary>
internal sealed record StatusView(IReadOnlyList<PartitionStatus> Partitions, IReadOnlyList<SiloMembership> Silos);
