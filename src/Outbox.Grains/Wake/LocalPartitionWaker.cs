using Microsoft.Extensions.Logging;
using Orleans;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Wake;

/// <summary>
/// Wakes a partition active in this silo with a grain call to it (a local call). A partition active elsewhere is
/// that silo's to wake: every silo probes and listens for its own partitions, so a wake never crosses the network.
/// </summary>
internal sealed partial class LocalPartitionWaker(ActivePartitions active, IGrainFactory grains, ILogger<LocalPartitionWaker> logger)
    : IPartitionWaker
{
    public void Wake(int partition)
    {
        if (active.IsActive(partition)) _ = WakeAsync(partition);
    }

    private async Task WakeAsync(int partition)
    {
        try
        {
            await grains.GetGrain<IOutboxPartitionGrain>(partition).DrainAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The partition is moving or its silo stopping: its next activation drains on its own.
            LogWakeFailed(logger, e, partition);
        }
    }

    [LoggerMessage(EventId = OutboxEventId.PartitionWakeFailed, Level = LogLevel.Debug, Message = "Waking partition {Partition} failed")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception, int partition);
}
