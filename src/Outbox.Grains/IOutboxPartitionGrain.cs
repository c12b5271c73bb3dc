using Orleans.Concurrency;

namespace Outbox.Grains;

/// <summary>
/// The Orleans grain that is the single active worker of one outbox partition (the key). Clients reference this
/// interface to ask a partition to drain; Orleans routes the call to wherever the partition is active, and
/// activates it if it is not. Its Orleans identity is the aliases below, not its CLR names: a later move or rename
/// keeps silos and clients of different versions able to call each other (0.1.0's name-derived identity is not kept:
/// upgrading from it takes a full restart, docs/cluster.md).
/// </summary>
[Alias("Outbox.IOutboxPartitionGrain")]
public interface IOutboxPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Asks the partition to drain now. Returns once the partition's current activation accepted the request:
    /// a drain then runs (bursts of requests collapse into one more drain). Orleans retries a call that meets a
    /// dead or moving activation, and a new activation drains on its own, so an accepted request is never lost.
    /// </summary>
    [AlwaysInterleave]
    [Alias("DrainAsync")]
    Task DrainAsync();

    /// <summary>Keeps the partition active (activates it where placement puts it); does no work by itself.</summary>
    [AlwaysInterleave]
    [Alias("KeepActiveAsync")]
    Task KeepActiveAsync();
}
