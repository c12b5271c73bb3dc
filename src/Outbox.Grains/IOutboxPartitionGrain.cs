using Orleans.Concurrency;

namespace Outbox.Grains;

/// <summary>
/// The Orleans grain that is the single active worker of one outbox partition (the key). Clients reference this
/// interface to ask a partition to drain; Orleans routes the call to wherever the partition is active, and
/// activates it if it is not.
/// </summary>
public interface IOutboxPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Asks the partition to drain now. Returns once the partition's current activation accepted the request:
    /// a drain then runs (bursts of requests collapse into one more drain). Orleans retries a call that meets a
    /// dead or moving activation, and a new activation drains on its own, so an accepted request is never lost.
    /// </summary>
    [AlwaysInterleave]
    Task DrainAsync();

    /// <summary>Keeps the partition active (activates it where placement puts it); does no work by itself.</summary>
    [AlwaysInterleave]
    Task KeepActiveAsync();
}
