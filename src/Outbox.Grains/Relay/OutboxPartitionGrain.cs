using Microsoft.Extensions.DependencyInjection;
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
/// The partition grain: the single owner of one outbox partition. Activation takes a new ownership epoch (so an older
/// activation, e.g. on a silo declared dead that has not noticed yet, is fenced off) and registers the partition with
/// the silo's <see cref="RelayReader"/>, which reads its rows; the activation publishes them in order through a
/// <see cref="PartitionDrainer"/> whenever the reader signals that some are queued, and keeps the durable reminder
/// registered while the partition has scheduled rows. Deactivation lets the batch in flight finish; a fenced
/// activation deactivates itself.
/// </summary>
/// <remarks>
/// The publishing loop runs on the activation's scheduler but outside any request (a timer tick starts it), so a long
/// drain never blocks <see cref="DrainAsync"/> nor deactivation: requests interleave with the loop's awaits, and all
/// state below is touched only on the activation's single thread.
/// </remarks>
[PartitionPlacement]
[CollectionAgeLimit(AlwaysActive = true)]
// Grain code resumes on the activation's scheduler: its state is touched on that single thread only.
#pragma warning disable CA2007
internal sealed partial class OutboxPartitionGrain : Grain, IOutboxPartitionGrain, IRemindable, IDisposable
{
    internal const string ScheduleReminder = "scheduled-messages";

    private readonly OutboxStore _store;
    private readonly RelayReader _reader;
    private readonly RelayCompleter _completer;
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
    private readonly CancellationTokenSource _stopping = new();
    private PartitionFeed? _feed;
    private PartitionDrainer? _drainer;
    private TransactionalPublisher? _transactional;
    private IGrainTimer? _start;
    private Task _loop = Task.CompletedTask;
    private bool? _hasReminder;

    public OutboxPartitionGrain(OutboxStore store, RelayReader reader, RelayCompleter completer, IOutboxPublisher publisher,
        ExactlyOnceStartup exactlyOnce, IOptions<RelayOptions> options, [FromKeyedServices(RelayRetryPipeline.Key)] ResiliencePipeline retry,
        RelayMetrics metrics, PartitionAssignment assignment, ILocalSiloDetails silo, ActivePartitions active, ILogger<OutboxPartitionGrain> logger)
    {
        _store = store;
        _reader = reader;
        _completer = completer;
        _publisher = publisher;
        _exactlyOnce = exactlyOnce;
        _options = options.Value;
        _retry = retry;
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
        _feed = _reader.Register(Partition, epoch);
        _drainer = new PartitionDrainer(_feed, _reader, _completer, publisher, _options, _metrics, _logger);
        _active.Add(Partition, epoch);
        _metrics.Rebalances.Add(1);
        LogActivated(_logger, Partition, epoch, _silo.Name);
        _start = this.RegisterGrainTimer(StartAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
    }

    public Task DrainAsync()
    {
        // A drain request (an operator, a client, a NOTIFY): the reader looks at the partition at once (a resumed pause,
        // a released schedule), and the activation publishes whatever is queued.
        if (_feed is { } feed)
        {
            _reader.Wake(feed);
            feed.Signal();
        }
        return Task.CompletedTask;
    }

    public Task KeepActiveAsync()
    {
        // The keeper of the silo that placement assigns this partition to pings it every second: a partition assigned
        // elsewhere (a silo joined) hands over now.
        TryHandOver();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // The durable wake-up: after a failover or a full restart the reminder activates the partition (if the keeper
        // has not already), and the activation's reads release what fell due.
        return DrainAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _start?.Dispose();
        _drainer?.FinishBatchThenStop();
        // A graceful stop ends the retries' waits at once; a batch in flight still finishes (only _stopNow stops it).
        await _stopping.CancelAsync();
        // Orleans cancels the token after its deactivation timeout: a batch stuck behind an outage is then abandoned (it
        // stays in the outbox for the next owner, whose epoch fences this one's late writes).
        await using (cancellationToken.Register(_stopNow.Cancel))
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
                // Stopped by the deactivation timeout; nothing more to do.
            }
        }
        if (_transactional is not null) await _transactional.DisposeAsync();
        if (_feed is { } feed)
        {
            _reader.Unregister(feed);
            _active.Remove(Partition, feed.Epoch);
            LogDeactivated(_logger, Partition, feed.Epoch, reason.Description);
        }
    }

    public void Dispose()
    {
        _drainer?.Dispose();
        _feed?.Dispose();
        _stopNow.Dispose();
        _stopping.Dispose();
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = RunAsync(_feed!, _drainer!);
        return Task.CompletedTask;
    }

    /// <summary>Publishes what the reader queues, until the activation stops, is fenced, or fails unexpectedly.</summary>
    private async Task RunAsync(PartitionFeed feed, PartitionDrainer drainer)
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await _retry.ExecuteAsync(static (state, _) => state.drainer.DrainAsync(state.stopNow), (drainer, stopNow: _stopNow.Token),
                    _stopping.Token);
                await KeepReminderAsync(feed);
                await feed.WaitAsync(_stopping.Token);
            }
        }
        catch (PartitionFencedException)
        {
            LogFenced(_logger, Partition, drainer.Epoch);
            _stopping.Cancel();
            DeactivateOnIdle();
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Deactivating: retries and waits end, or the deactivation timeout gave up on the batch; the loop ends here by design.
        }
        catch (Exception e)
        {
            // The retry pipeline retries everything else for ever, so this is a bug: let a new activation start over.
            LogCycleFailed(_logger, e, Partition);
            _stopping.Cancel();
            DeactivateOnIdle();
        }
    }

    /// <summary>Keeps the durable reminder registered exactly while the partition has scheduled rows.</summary>
    private async Task KeepReminderAsync(PartitionFeed feed)
    {
        var scheduled = feed.HasSchedule;
        if (scheduled == _hasReminder) return;
        try
        {
            if (scheduled)
                await this.RegisterOrUpdateReminder(ScheduleReminder, _options.ReminderPeriod, _options.ReminderPeriod);
            else if (await this.GetReminder(ScheduleReminder) is { } reminder)
                await this.UnregisterReminder(reminder);
            _hasReminder = scheduled;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reminder table is out of reach: the next signal tries again. Nothing here may stop the partition.
            LogHousekeepingFailed(_logger, e, Partition);
        }
    }

    /// <summary>
    /// Hands the partition over when placement now assigns it to another silo. Live migration: the placement director
    /// activates it on its assigned silo right away (with a new epoch) once this activation has finished its batch in flight.
    /// </summary>
    private void TryHandOver()
    {
        if (_stopping.IsCancellationRequested || _feed is not { } feed || !_assignment.IsElsewhere(Partition, _silo.SiloAddress, this.GetGrainId().Type))
            return;
        LogMoving(_logger, Partition, feed.Epoch);
        _stopping.Cancel();
        MigrateOnIdle();
    }

    [LoggerMessage(EventId = OutboxEventId.PartitionActivated, Level = LogLevel.Information, Message = "Partition {Partition} activated with epoch {Epoch} on silo {Silo}")]
    private static partial void LogActivated(ILogger logger, int partition, long epoch, string silo);

    [LoggerMessage(EventId = OutboxEventId.PartitionDeactivated, Level = LogLevel.Information, Message = "Partition {Partition} (epoch {Epoch}) deactivated: {Reason}")]
    private static partial void LogDeactivated(ILogger logger, int partition, long epoch, string? reason);

    [LoggerMessage(EventId = OutboxEventId.PartitionFenced, Level = LogLevel.Warning, Message = "Partition {Partition}: epoch {Epoch} was fenced off by a newer owner; deactivating")]
    private static partial void LogFenced(ILogger logger, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.RelayFailed, Level = LogLevel.Error, Message = "Partition {Partition}: publishing stopped on an unexpected error; deactivating")]
    private static partial void LogCycleFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = OutboxEventId.PartitionHousekeepingFailed, Level = LogLevel.Warning, Message = "Partition {Partition}: the reminder could not be updated; retrying on the next signal")]
    private static partial void LogHousekeepingFailed(ILogger logger, Exception exception, int partition);

    [LoggerMessage(EventId = OutboxEventId.PartitionMoving, Level = LogLevel.Information, Message = "Partition {Partition} (epoch {Epoch}) is assigned to another silo now; handing it over")]
    private static partial void LogMoving(ILogger logger, int partition, long epoch);
}
