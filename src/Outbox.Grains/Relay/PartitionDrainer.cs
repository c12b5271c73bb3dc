using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// The drain algorithm of one outbox partition, free of any hosting concern: it drains due rows in id order,
/// one batch in flight at a time, publishes them, and removes them only after Kafka acknowledged them, under
/// the ownership epoch its host took. The host (<see cref="OutboxPartitionGrain"/>) decides when to drain,
/// retries failures and owns the epoch's lifecycle.
/// </summary>
internal sealed partial class PartitionDrainer : IDisposable
{
    private readonly OutboxStore _store;
    private readonly IOutboxPublisher _publisher;
    private readonly RelayOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly AcknowledgedCompletion _completion;
    private readonly ReadPosition _position;
    private readonly CancellationTokenSource _finishBatchThenStop = new();

    public PartitionDrainer(int partition, long epoch, OutboxStore store, IOutboxPublisher publisher, RelayOptions options,
        RelayMetrics metrics, ILogger logger)
    {
        Partition = partition;
        Epoch = epoch;
        _store = store;
        _publisher = publisher;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _completion = new AcknowledgedCompletion(store, partition, epoch);
        _position = new ReadPosition(options.SweepInterval);
    }

    public int Partition { get; }

    /// <summary>The ownership epoch this relay holds; its database writes are valid only while it is current.</summary>
    public long Epoch { get; }

    /// <summary>Stopping: a drain in progress completes the batch in flight and reads no further.</summary>
    public void FinishBatchThenStop() => _finishBatchThenStop.Cancel();

    public void Dispose() => _finishBatchThenStop.Dispose();

    /// <summary>Publishes batches until the partition has nothing due (or a graceful stop was asked for).</summary>
    internal async ValueTask DrainAsync(CancellationToken stopNow)
    {
        // Every read begins at the partition's read position (ReadPosition): low enough that a row of a transaction
        // that committed late, or a row that became publishable again, is read before any later row of its key, even
        // within this drain; high enough that the read does not walk the index entries of rows removed long ago.
        // A batch acknowledged by Kafka whose completion failed is completed first, not read and published again.
        await _completion.SettleAsync(stopNow).ConfigureAwait(false);
        var (batch, allowed) = await ReadAsync(_position.StartOfDrain(), inFlight: [], stopNow).ConfigureAwait(false);
        while (batch.Count > 0)
        {
            var started = Stopwatch.GetTimestamp();
            var outcomes = await _publisher.PublishAsync(Partition, batch, stopNow).ConfigureAwait(false);
            var summary = BatchSummary.Of(batch, outcomes);
            var more = BatchBudget.IsFull(batch, _options) && !_finishBatchThenStop.IsCancellationRequested;
            if (more && summary.Completion.PublishedIds.Count == batch.Count)
            {
                // Everything was acknowledged: read the next batch while this one is removed. The next batch is
                // produced only after this completion committed, so at most one acknowledged batch is ever
                // waiting for removal (what a crash re-publishes), and the key order is that of the ids.
                var completing = _completion.CompleteAsync(summary.Completion, stopNow);
                var next = ReadAsync(_position.Floor, summary.Completion.PublishedIds, stopNow);
                await Task.WhenAll(completing, next).ConfigureAwait(false);
                _position.Advance(allowed);
                Record(batch, outcomes, summary, started);
                (batch, allowed) = await next.ConfigureAwait(false);
                continue;
            }

            if (!summary.Completion.IsEmpty)
                await _completion.CompleteAsync(summary.Completion, stopNow).ConfigureAwait(false);
            Record(batch, outcomes, summary, started);
            if (summary.TransientFailures > 0)
                throw new TransientPublishException(Partition, summary.TransientFailures, summary.FirstTransientError);
            // Every row is removed or parked (rows held back behind a parked one wait with it): the floor may pass them.
            _position.Advance(allowed);
            if (!more) return;
            // Rows were parked or held back: read again, where the parking now holds their keys back.
            (batch, allowed) = await ReadAsync(_position.Floor, inFlight: [], stopNow).ConfigureAwait(false);
        }
        _position.Advance(allowed);
    }

    /// <summary>Reads a batch from <paramref name="start"/>; also returns the floor it allows once that batch is completed.</summary>
    private async Task<(IReadOnlyList<OutboxRow> Batch, ReadPosition.Allowance Allowed)> ReadAsync(long start, IReadOnlyList<long> inFlight, CancellationToken stopNow)
    {
        var read = await _store.ReadBatchAsync(Partition, Epoch, start, inFlight, _options.BatchSize, _options.BatchMaxBytes, stopNow).ConfigureAwait(false);
        return (read.Rows, _position.Observe(read, full: read.Rows.Count > 0 && BatchBudget.IsFull(read.Rows, _options)));
    }

    /// <summary>How long the partition may sleep: until its next scheduled message or the safety sweep.</summary>
    internal async ValueTask<TimeSpan> NextWakeAsync(CancellationToken cancellationToken)
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

    [LoggerMessage(EventId = OutboxEventId.MessageParked, Level = LogLevel.Warning, Message = "Partition {Partition}: row {RowId} parked: {Reason}")]
    private static partial void LogParked(ILogger logger, int partition, long rowId, string reason);

    [LoggerMessage(EventId = OutboxEventId.AcknowledgedOutOfOrder, Level = LogLevel.Warning, Message = "Partition {Partition}: {Count} message(s) were acknowledged after an earlier message of their key failed; Kafka holds them ahead of it")]
    private static partial void LogAckedAfterFailure(ILogger logger, int partition, int count);
}
