using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;
using Polly;

namespace Outbox.Grains.Relay;

/// <summary>
/// The "grain": the single active worker of one outbox partition. It drains due rows in id order, one batch in
/// flight at a time, publishes them, and removes them only after Kafka acknowledged them, under the ownership
/// epoch it took on activation. Between drains it sleeps until a trigger, the next scheduled message, or the
/// safety sweep, whichever comes first.
/// </summary>
public sealed partial class PartitionRelay : IDisposable
{
    private readonly OutboxStore _store;
    private readonly IOutboxPublisher _publisher;
    private readonly RelayOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly RelayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly WakeSignal _wake = new();
    private readonly CancellationTokenSource _finishBatchThenStop = new();
    private readonly CancellationTokenSource _stopNow = new();
    private Task _loop = Task.CompletedTask;

    private PartitionRelay(int partition, long epoch, OutboxStore store, IOutboxPublisher publisher, RelayOptions options,
        ResiliencePipeline retry, RelayMetrics metrics, ILogger logger)
    {
        Partition = partition;
        Epoch = epoch;
        _store = store;
        _publisher = publisher;
        _options = options;
        _retry = retry;
        _metrics = metrics;
        _logger = logger;
    }

    public int Partition { get; }

    /// <summary>The ownership epoch this relay holds; its database writes are valid only while it is current.</summary>
    public long Epoch { get; }

    /// <summary>True once the relay stopped by itself (fenced off by a newer owner).</summary>
    public bool IsFenced { get; private set; }

    /// <summary>Takes a new epoch for the partition and starts draining it.</summary>
    internal static async Task<PartitionRelay> ActivateAsync(int partition, string owner, OutboxStore store, IOutboxPublisher publisher,
        RelayOptions options, ResiliencePipeline retry, RelayMetrics metrics, ILogger logger, CancellationToken cancellationToken)
    {
        var epoch = await retry.ExecuteAsync(async ct => await store.ActivateAsync(partition, owner, ct).ConfigureAwait(false), cancellationToken)
            .ConfigureAwait(false);
        var relay = new PartitionRelay(partition, epoch, store, publisher, options, retry, metrics, logger);
        LogActivated(logger, partition, epoch);
        relay._loop = Task.Run(relay.RunAsync, CancellationToken.None);
        return relay;
    }

    /// <summary>Asks for a drain now (a NOTIFY, a client request). Cheap; bursts collapse into one drain.</summary>
    public void Trigger() => _wake.Set();

    /// <summary>Revoked or shutting down: finish the batch in flight (its rows are completed), then stop.</summary>
    public Task StopGracefullyAsync()
    {
        _finishBatchThenStop.Cancel();
        return _loop;
    }

    /// <summary>Lost: stop at once. An unfinished batch stays in the outbox for the next owner.</summary>
    public Task StopNowAsync()
    {
        _finishBatchThenStop.Cancel();
        _stopNow.Cancel();
        return _loop;
    }

    /// <summary>Call after the relay stopped.</summary>
    public void Dispose()
    {
        _finishBatchThenStop.Dispose();
        _stopNow.Dispose();
    }

    private async Task RunAsync()
    {
        using var sleepCancellation = CancellationTokenSource.CreateLinkedTokenSource(_finishBatchThenStop.Token, _stopNow.Token);
        try
        {
            while (!_finishBatchThenStop.IsCancellationRequested)
            {
                await _retry.ExecuteAsync(DrainAsync, _stopNow.Token).ConfigureAwait(false);
                var wait = await _retry.ExecuteAsync(NextWakeAsync, _stopNow.Token).ConfigureAwait(false);
                await _wake.WaitAsync(wait, sleepCancellation.Token).ConfigureAwait(false);
            }
        }
        catch (PartitionFencedException)
        {
            IsFenced = true;
            LogFenced(_logger, Partition, Epoch);
        }
        catch (OperationCanceledException) when (sleepCancellation.IsCancellationRequested)
        {
            // Stopping: the loop ends here by design.
        }
        catch (Exception e)
        {
            LogRelayFailed(_logger, e, Partition);
        }
        finally
        {
            LogDeactivated(_logger, Partition, Epoch);
        }
    }

    /// <summary>Publishes batches until the partition has nothing due (or a graceful stop was asked for).</summary>
    private async ValueTask DrainAsync(CancellationToken stopNow)
    {
        // Each drain's first read starts at the partition's first row, so rows of transactions that committed
        // late (lower ids, visible only now) are found; later reads of the same drain continue after the last
        // batch, an index range scan that does not walk the entries of rows just removed.
        var batch = await _store.ReadBatchAsync(Partition, Epoch, after: 0, _options.BatchSize, stopNow).ConfigureAwait(false);
        while (batch.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            var outcomes = await _publisher.PublishAsync(Partition, batch, stopNow).ConfigureAwait(false);
            var summary = BatchSummary.Of(batch, outcomes);
            var more = batch.Count == _options.BatchSize && !_finishBatchThenStop.IsCancellationRequested;
            if (more && summary.Completion.PublishedIds.Count == batch.Count)
            {
                // Everything was acknowledged: read the next batch while this one is removed. The next batch is
                // produced only after this completion committed, so at most one acknowledged batch is ever
                // waiting for removal (what a crash re-publishes), and the key order is that of the ids.
                var completing = _store.CompleteAsync(Partition, Epoch, summary.Completion, stopNow);
                var next = _store.ReadBatchAsync(Partition, Epoch, after: batch[^1].Id, _options.BatchSize, stopNow);
                await Task.WhenAll(completing, next).ConfigureAwait(false);
                Record(batch, outcomes, summary, started);
                batch = await next.ConfigureAwait(false);
                continue;
            }

            if (!summary.Completion.IsEmpty)
                await _store.CompleteAsync(Partition, Epoch, summary.Completion, stopNow).ConfigureAwait(false);
            Record(batch, outcomes, summary, started);
            if (summary.TransientFailures > 0)
                throw new TransientPublishException(Partition, summary.TransientFailures, summary.FirstTransientError);
            if (!more) return;
            // Rows were parked or held back: read from the start again, where the parking now holds their keys back.
            batch = await _store.ReadBatchAsync(Partition, Epoch, after: 0, _options.BatchSize, stopNow).ConfigureAwait(false);
        }
    }

    private async ValueTask<TimeSpan> NextWakeAsync(CancellationToken cancellationToken)
    {
        var due = await _store.TimeUntilNextDueAsync(Partition, Epoch, cancellationToken).ConfigureAwait(false);
        return due is { } d && d < _options.SweepInterval ? d : _options.SweepInterval;
    }

    private void Record(IReadOnlyList<OutboxRow> batch, PublishOutcome[] outcomes, BatchSummary summary, long started)
    {
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Status == PublishStatus.Acknowledged)
                _metrics.CommitToAck.Record((now - batch[i].CreatedAt).TotalSeconds);
        }
        _metrics.Published.Add(summary.Completion.PublishedIds.Count);
        _metrics.PublishedBytes.Add(summary.AcknowledgedBytes);
        if (summary.Completion.Parked.Count > 0)
        {
            _metrics.PublishFailures.Add(summary.Completion.Parked.Count, new KeyValuePair<string, object?>("error.type", "permanent"));
            foreach (var (id, reason) in summary.Completion.Parked) LogParked(_logger, Partition, id, reason);
        }
        if (summary.AckedAfterFailure > 0) LogAckedAfterFailure(_logger, Partition, summary.AckedAfterFailure);
        if (summary.TransientFailures > 0)
            _metrics.PublishFailures.Add(summary.TransientFailures, new KeyValuePair<string, object?>("error.type", "transient"));
        _metrics.BatchSize.Record(batch.Count);
        _metrics.DrainDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    [LoggerMessage(EventId = OutboxEventId.PartitionActivated, Level = LogLevel.Information, Message = "Partition {Partition} activated with epoch {Epoch}")]
    private static partial void LogActivated(ILogger logger, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.PartitionDeactivated, Level = LogLevel.Information, Message = "Partition {Partition} (epoch {Epoch}) deactivated")]
    private static partial void LogDeactivated(ILogger logger, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.PartitionFenced, Level = LogLevel.Warning, Message = "Partition {Partition}: epoch {Epoch} was fenced off by a newer owner; stopping")]
    private static partial void LogFenced(ILogger logger, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.MessageParked, Level = LogLevel.Warning, Message = "Partition {Partition}: row {RowId} parked: {Reason}")]
    private static partial void LogParked(ILogger logger, int partition, long rowId, string reason);

    [LoggerMessage(EventId = OutboxEventId.AcknowledgedOutOfOrder, Level = LogLevel.Warning, Message = "Partition {Partition}: {Count} message(s) were acknowledged after an earlier message of their key failed; Kafka holds them ahead of it")]
    private static partial void LogAckedAfterFailure(ILogger logger, int partition, int count);

    [LoggerMessage(EventId = OutboxEventId.RelayFailed, Level = LogLevel.Error, Message = "Partition {Partition}: relay stopped on an unexpected error")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, int partition);
}
