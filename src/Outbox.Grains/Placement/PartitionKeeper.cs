using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Placement;

/// <summary>
/// Keeps every partition active somewhere, idle ones too (scheduled messages must fire, a dead silo's partitions
/// must resume without waiting for traffic). Each silo, once active, pings the partitions the assignment gives
/// it, at once on every membership change and every <see cref="RelayOptions.KeeperInterval"/>; a ping goes to
/// wherever the grain lives or activates it where <see cref="PartitionPlacementDirector"/> puts it. A partition
/// already active here needs no ping (at 1,024 partitions the pings were most of an idle silo's work); it is pinged
/// anyway every <see cref="FullRoundEvery"/> rounds and after every membership change.
/// </summary>
internal sealed partial class PartitionKeeper(IGrainFactory grains, IClusterMembershipService membership,
    PartitionAssignment assignment, ActivePartitions active, ILocalSiloDetails silo, IOptions<RelayOptions> options,
    ILogger<PartitionKeeper> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    /// <summary>Rounds between two pings of the partitions already active here.</summary>
    private const int FullRoundEvery = 30;

    private readonly CancellationTokenSource _stopping = new();
    private readonly RelayOptions _options = options.Value;
    private int _round;
    private int[] _inFlight = [];
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PartitionKeeper), ServiceLifecycleStage.Active, OnActive, OnStopping);

    private Task OnActive(CancellationToken cancellationToken)
    {
        _inFlight = new int[_options.PartitionCount];
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopping(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RunAsync(CancellationToken stopping)
    {
        var changed = new SemaphoreSlim(0);
        var watch = WatchMembershipAsync(changed, stopping);
        try
        {
            var force = true;
            while (!stopping.IsCancellationRequested)
            {
                PingAssigned(force);
                force = await changed.WaitAsync(_options.KeeperInterval, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Silo stopping.
        }
        await watch.ConfigureAwait(false);
        changed.Dispose();
    }

    private async Task WatchMembershipAsync(SemaphoreSlim changed, CancellationToken stopping)
    {
        try
        {
            await foreach (var _ in membership.MembershipUpdates.WithCancellation(stopping).ConfigureAwait(false))
                changed.Release();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Silo stopping.
        }
    }

    /// <param name="force">After a membership change an older ping may still wait on a dead silo: ping anyway.</param>
    private void PingAssigned(bool force)
    {
        var silos = assignment.ActiveRelaySilos(grains.GetGrain<IOutboxPartitionGrain>(0).GetGrainId().Type);
        // Until this silo sees itself among the relay silos it pings every partition: each activates where the
        // placement director puts it, so nothing waits for the view to settle.
        var mine = silos.Contains(silo.SiloAddress);
        var assigned = mine ? PartitionAssignment.Assign(_options.PartitionCount, silos) : null;
        var full = force || ++_round % FullRoundEvery == 0;
        for (var partition = 0; partition < _options.PartitionCount; partition++)
        {
            if (assigned is not null && !assigned[partition].Equals(silo.SiloAddress)) continue;
            if (!full && assigned is not null && active.IsActive(partition)) continue;
            if (Interlocked.Increment(ref _inFlight[partition]) == 1 || force) _ = PingAsync(partition);
            else Interlocked.Decrement(ref _inFlight[partition]);
        }
    }

    private async Task PingAsync(int partition)
    {
        try
        {
            await grains.GetGrain<IOutboxPartitionGrain>(partition).KeepActiveAsync()
                .WaitAsync(_options.KeeperPingTimeout, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Silo stopping.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Activation failed (the database is down, the silo is stopping) or the ping went unanswered (it was
            // routed to a silo that died meanwhile): the next round tries again.
            LogPingFailed(logger, e, partition);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight[partition]);
        }
    }

    [LoggerMessage(EventId = OutboxEventId.KeeperPingFailed, Level = LogLevel.Warning, Message = "Keeping partition {Partition} active failed; retrying on the next round")]
    private static partial void LogPingFailed(ILogger logger, Exception exception, int partition);
}
