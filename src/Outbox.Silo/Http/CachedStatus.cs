using Outbox.Contracts;
using Outbox.Grains;

namespace Outbox.Silo.Http;

/// <summary>
/// GET /status aggregates over the whole backlog (over a second at 300k rows), and it is unauthenticated: at most
/// one aggregation runs per silo at a time, and its answer serves every request for <see cref="MaxAge"/>, so any
/// number of clients cost the database one query every couple of seconds.
/// </summary>
public sealed class CachedStatus(OutboxClient client) : IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (DateTime At, IReadOnlyList<PartitionStatus> Value)? _last;

    public async Task<IReadOnlyList<PartitionStatus>> GetAsync(CancellationToken cancellationToken)
    {
        if (_last is { } fresh && DateTime.UtcNow - fresh.At < MaxAge) return fresh.Value;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } cached && DateTime.UtcNow - cached.At < MaxAge) return cached.Value;
            var value = await client.GetStatusAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
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
