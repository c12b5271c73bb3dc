using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Outbox.Contracts;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Placement;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;
using Polly;

namespace Outbox.Grains.Relay;

/// <summary>
/// The partition grain: the lifecycle around one <see cref="PartitionDrainer"/>. Activation takes a new ownership
/// epoch (so an older activation, e.g. on a silo declared dead that has not noticed yet, is fenced off). A
/// one-shot grain timer starts each drain cycle; a cycle drains until nothing is due, then re-arms the timer for
/// the next scheduled message or the safety sweep. Drain requests arriving during a cycle collapse into one more
/// cycle. Deactivation lets the batch in flight finish; a fenced activation deactivates itself.
/// </summary>
/// <remarks>
/// The cycle runs on the activation's scheduler but outside any request (the timer tick only starts it), so a
/// long drain never blocks <see cref="DrainAsync"/> nor deactivation: requests interleave with the cycle's awaits,
/// and all state below is touched only on the activation's single thread.
/// </remarks>
[PartitionPlacement]
// Grain code resumes on the activation's scheduler: its state is touched on that single thread only.
#pragma warning disable CA2007
internal sealed partial class OutboxPartitionGrain : Grain, IOutboxPartitionGrain, IRemindable, IDisposable
{
    internal const string ScheduleReminder = "scheduled-messages";

    private readonly OutboxStore _store;
    private readonly OwnershipCheck _ownership;
    private readonly IOutboxPublisher _publisher;
    private readonly ExactlyOnceStartup _exactlyOnce;
    private readonly RelayOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly RelayMetrics _metrics;
    private readonly PartitionAssignment _assignment;
    private readonly ILocalSiloDetails _silo;
    private readonly ActivePartitions _active;
    private readonly ILogger<OutboxPartitionGrain> _logger;
    private readonly CancellationTokenSource _stopNow = new();
    private readonly CancellationTokenSource _stopRetrying = new();
    private PartitionDrainer? _drainer;
    private TransactionalPublisher? _transactional;
    private IGrainTimer? _timer;
    private Task _cycle = Task.CompletedTask;
    private bool _drainRequested;
    private bool _stopping;
    private bool? _hasReminder;
    private DateTime _nextHousekeeping;

    public OutboxPartitionGrain(OutboxStore store, OwnershipCheck ownership, IOutboxPublisher publisher, ExactlyOnceStartup exactlyOnce,
        IOptions<RelayOptions> options, RelayRetry retry, RelayMetrics metrics, PartitionAssignment assignment, ILocalSiloDetails silo, ActivePartitions active, ILogger<OutboxPartitionGrain> logger)
    {
        _store = store;
        _ownership = ownership;
        _publisher = publisher;
        _exactlyOnce = exactlyOnce;
        _options = options.Value;
        _retry = retry.Pipeline;
        _metrics = metrics;
        _assignment = assignment;
        _silo = silo;
        _active = active;
        _logger = logger;
    }

    private int Partition => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Partition < 0 || Partition >= _options.PartitionCount)
            throw new InvalidOperationException($"Partition {Partition} does not exist: the outbox has partitions 0 to {_options.PartitionCount - 1}.");
        var epoch = await _retry.ExecuteAsync(async ct => await _store.ActivateAsync(Partition, _silo.Name, ct), cancellationToken);
        var publisher = _publisher;
        if (_exactlyOnce.Enabled)
        {
            // Exactly-once: the partition's own transactional producer, started after the epoch is taken
            // (InitTransactions fences a previous owner's producer) and reconciled before the first read.
            var delivery = await _exactlyOnce.DeliveryAsync(cancellationToken);
            publisher = _transactional = await _retry.ExecuteAsync(async ct => await delivery.ActivateAsync(Partition, epoch, ct), cancellationToken);
        }
        _drainer = new PartitionDrainer(Partition, epoch, _store, publisher, _options, _metrics, _logger);
        _active.Add(Partition, epoch);
        _metrics.Rebalances.Add(1);
        LogActivated(_logger, Partition, epoch, _silo.Name);
        // KeepAlive: every partition stays active (idle ones too) until it is moved, fenced or its silo stops.
        _timer = this.RegisterGrainTimer(OnTimer, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan)
        {
            KeepAlive = true,
            Interleave = true,
        });
    }

    public Task DrainAsync()
    {
        Wake();
        return Task.CompletedTask;
    }

    public Task KeepActiveAsync()
    {
        // The keeper of the silo that placement assigns this partition to pings it every second: a partition assigned
        // elsewhere (a silo joined) hands over now, not at its next housekeeping, which a long sweep would delay.
        TryHandOver();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // The durable wake-up: after a failover or a full restart the reminder activates the partition (if the
        // keeper has not already) and starts a drain; the grain timer then keeps sub-second accuracy.
        Wake();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _stopping = true;
        _timer?.Dispose();
        _drainer?.FinishBatchThenStop();
        // A graceful stop ends the retries' waits at once; a batch in flight still finishes (only _stopNow stops it).
        await _stopRetrying.CancelAsync();
        // Orleans cancels the token after its deactivation timeout: a batch stuck behind an outage is then
        // abandoned (it stays in the outbox for the next owner, whose epoch fences this one's late writes).
        await using (cancellationToken.Register(_stopNow.Cancel))
        {
            try
            {
                await _cycle;
            }
            catch (OperationCanceledException)
            {
                // Stopped by the deactivation timeout; nothing more to do.
            }
        }
        if (_transactional is not null) await _transactional.DisposeAsync();
        if (_drainer is { } drainer)
        {
            _active.Remove(Partition, drainer.Epoch);
            LogDeactivated(_logger, Partition, drainer.Epoch, reason.Description);
        }
    }

    public void Dispose()
    {
        _drainer?.Dispose();
        _stopNow.Dispose();
        _stopRetrying.Dispose();
    }

    private Task OnTimer(CancellationToken cancellationToken)
    {
        Wake();
        return Task.CompletedTask;
    }

    private void Wake()
    {
        _drainRequested = true;
        if (_cycle.IsCompleted && !_stopping && _drainer is not null) _cycle = RunCycleAsync(_drainer);
    }

    private async Task RunCycleAsync(PartitionDrainer drainer)
    {
        try
        {
            while (_drainRequested && !_stopping)
            {
                _drainRequested = false;
                await _retry.ExecuteAsync(static (state, _) => state.drainer.DrainAsync(state.stopNow), (drainer, stopNow: _stopNow.Token),
                    _stopRetrying.Token);
            }
            if (_stopping) return;
            var wait = await _retry.ExecuteAsync(drainer.NextWakeAsync, _stopRetrying.Token);
            await HousekeepAsync(drainer);
            if (!_stopping) _timer?.Change(_drainRequested ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
        }
        catch (PartitionFencedException)
        {
            LogFenced(_logger, Partition, drainer.Epoch);
            _stopping = true;
            DeactivateOnIdle();
        }
        catch (OperationCanceledException) when (_stopRetrying.IsCancellationRequested)
        {
            // Deactivating: retries end, or the deactivation timeout gave up on the batch; the cycle ends here by design.
        }
        catch (Exception e)
        {
            // The retry pipeline retries everything else for ever, so this is a bug: let a new activation start over.
            LogCycleFailed(_logger, e, Partition);
            _stopping = true;
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// Once per sweep interval: an idle activation learns that it was fenced (reads of a stale epoch just find
    /// nothing), hands the partition over when placement now assigns it to another silo, and keeps the
    /// durable reminder registered exactly while the partition has scheduled messages.
    /// </summary>
    private async Task HousekeepAsync(PartitionDrainer drainer)
    {
        if (DateTime.UtcNow < _nextHousekeeping) return;
        _nextHousekeeping = DateTime.UtcNow + _options.SweepInterval;
        try
        {
            await HousekeepOnceAsync(drainer);
        }
        catch (Exception e) when (e is not (PartitionFencedException or OperationCanceledException))
        {
            // The database or the reminder table is unreachable: the drain's own retries ride the outage out,
            // and the next cycle checks again. Nothing here may stop the partition.
            LogHousekeepingFailed(_logger, e, Partition);
        }
    }

    /// <summary>
    /// Hands the partition over when placement now assigns it to another silo. Live migration: the placement
    /// director activates it on its assigned silo right away (with a new epoch) once this activation has finished
    /// its batch in flight.
    /// </summary>
    private bool TryHandOver()
    {
        if (_stopping || _drainer is not { } drainer || !_assignment.IsElsewhere(Partition, _silo.SiloAddress, this.GetGrainId().Type))
            return false;
        LogMoving(_logger, Partition, drainer.Epoch);
        _stopping = true;
        MigrateOnIdle();
        return true;
    }

    private async Task HousekeepOnceAsync(PartitionDrainer drainer)
    {
        await _ownership.EnsureCurrentAsync(Partition, drainer.Epoch, _stopNow.Token);
        if (TryHandOver()) return;
        var scheduled = await _store.TimeUntilNextDueAsync(Partition, drainer.Epoch, _stopNow.Token) is not null;
        if (scheduled == _hasReminder) return;
        if (scheduled)
            await this.RegisterOrUpdateReminder(ScheduleReminder, _options.ReminderPeriod, _options.ReminderPeriod);
        else if (await this.GetReminder(ScheduleReminder) is { } reminder)
            await this.UnregisterReminder(reminder);
        _hasReminder = scheduled;
    }

    [LoggerMessage(EventId = OutboxEventId.PartitionActivated, Level = LogLevel.Information, Message = "Partition {Partition} activated with epoch {Epoch} on silo {Silo}")]
    private static partial void LogActivated(ILogger logger, int partition, long epoch, string silo);

    [LoggerMessage(EventId = OutboxEventId.PartitionDeactivated, Level = LogLevel.Information, Message = "Partition {Partition} (epoch {Epoch}) deactivated: {Reason}")]
    private static partial void LogDeactivated(ILogger logger, int partition, long epoch, string? reason);

    [LoggerMessage(EventId = OutboxEventId.PartitionFenced, Level = LogLevel.Warning, Message = "Partition {Partition}: epoch {Epoch} was fenced off by a newer owner; deactivating")]
    private static partial void LogFenced(ILogger logger, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.RelayFailed, Level = LogLevel.Error, Message = "Partition {Partition}: drain cycle stopped on an unexpected error; deactivating")]
    private static partial void LogCycleFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = OutboxEventId.PartitionHousekeepingFailed, Level = LogLevel.Warning, Message = "Partition {Partition}: ownership, placement or reminder check failed; retrying on the next cycle")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = OutboxEventId.PartitionMoving, Level = LogLevel.Information, Message = "Partition {Partition} (epoch {Epoch}) is assigned to another silo now; handing it over")]
    private static partial void LogMoving(ILogger logger, int partition, long epoch);
}
