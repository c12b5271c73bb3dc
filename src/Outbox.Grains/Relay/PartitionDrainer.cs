using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// Publishes one partition's rows, free of any hosting concern: it takes batches from the partition's
/// <see cref="PartitionFeed"/> in order, publishes each, and has it completed (removed, parked or held) under the
/// activation's epoch before it takes the next, so at most one acknowledged batch ever waits for its removal (what a
/// crash publishes again). The host (<see cref="OutboxPartitionGrain"/>) decides when to drain and retries failures.
/// </summary>
/// <remarks>
/// Per-key order: a batch goes out in order, one at a time; a row Kafka refused for now is published again before
/// anything that follows it; a row refused for good is parked, and every row of its key this activation still holds
/// is marked to wait behind it (rows the reader reads after the parking committed are marked by the database).
/// </remarks>
internal sealed partial class PartitionDrainer : IDisposable
{
    private readonly PartitionFeed _feed;
    private readonly RelayReader _reader;
    private readonly RelayCompleter _completer;
    private readonly IOutboxPublisher _publisher;
    private readonly RelayOptions _options;
    private readonly RelayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _finishBatchThenStop = new();

    /// <summary>Rows refused for now, with the rows of their keys held back behind them: published again first.</summary>
    private List<QueuedRow> _retry = [];

    /// <summary>A completion whose outcome is unknown (the database failed): completed again before anything else.</summary>
    private OwedCompletion? _owed;

    /// <summary>
    /// The rows the last completions removed. A read that began before a removal committed may return them again (after a
    /// change of database, say): they are removed again, not published again. A few batches cover every such read, since
    /// the queue holds at most two batches besides the one in flight.
    /// </summary>
    private readonly Queue<HashSet<RowRef>> _removed = new();

    private const int RemovedBatchesKept = 4;

    /// <summary>
    /// Keys parked by this activation, with the number of the reader's first statement that saw the parking: rows of the
    /// key read by an earlier statement were not marked by the database and are held here.
    /// </summary>
    private readonly Dictionary<string, long> _parkedKeys = new(StringComparer.Ordinal);

    public PartitionDrainer(PartitionFeed feed, RelayReader reader, RelayCompleter completer, IOutboxPublisher publisher, RelayOptions options,
        RelayMetrics metrics, ILogger logger)
    {
        _feed = feed;
        _reader = reader;
        _completer = completer;
        _publisher = publisher;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    public int Partition => _feed.Partition;

    /// <summary>The ownership epoch this relay holds; its database writes are valid only while it is current.</summary>
    public long Epoch => _feed.Epoch;

    /// <summary>Stopping: a drain in progress completes the batch in flight and takes no further.</summary>
    public void FinishBatchThenStop() => _finishBatchThenStop.Cancel();

    public void Dispose() => _finishBatchThenStop.Dispose();

    /// <summary>Publishes batches until the partition's queue is empty (or a graceful stop was asked for).</summary>
    /// <remarks>
    /// Exception-safe for the retry pipeline around it: rows taken from the queue stay owed until their outcome is
    /// recorded. If publishing throws, the whole batch is published again first; once its outcomes are known, the rows
    /// refused for now are, and the completion of the rest is completed again if its statement failed.
    /// </remarks>
    internal async ValueTask DrainAsync(CancellationToken stopNow)
    {
        if (_feed.Fenced) throw new PartitionFencedException(Partition, Epoch);
        if (_owed is { } owed) await CompleteAsync(owed, stopNow).ConfigureAwait(false);
        while (!_finishBatchThenStop.IsCancellationRequested)
        {
            var taken = _retry.Count > 0 ? _retry : _feed.Take(_options.BatchSize, _options.BatchMaxBytes);
            _retry = taken;
            var (batch, held, removed) = Sort(taken);
            if (batch.Count == 0 && held.Count == 0 && removed.Count == 0) return;
            var started = Stopwatch.GetTimestamp();
            var outcomes = batch.Count == 0 ? [] : await _publisher.PublishAsync(Partition, batch, stopNow).ConfigureAwait(false);
            var result = Classify(batch, outcomes, held, removed);
            _retry = result.Retry.ConvertAll(r => new QueuedRow(r, long.MaxValue));
            await CompleteAsync(new OwedCompletion(result.Completion, result.ParkedKeys), stopNow).ConfigureAwait(false);
            Record(result, started);
            if (result.Retry.Count > 0) throw new TransientPublishException(Partition, result.Retry.Count, result.FirstTransientError);
        }
    }

    /// <summary>One pass over a batch's outcomes, in batch order: what to remove, park, hold, and publish again.</summary>
    /// <param name="batch">The rows published, in order.</param>
    /// <param name="outcomes">Their outcomes, in the same order.</param>
    /// <param name="held">Rows of keys parked earlier that were not published: they are held.</param>
    /// <param name="removedBefore">Rows acknowledged by an earlier batch that a read returned again: they are removed again.</param>
    internal static BatchResult Classify(IReadOnlyList<OutboxRow> batch, PublishOutcome[] outcomes, IReadOnlyList<OutboxRow> held,
        IReadOnlyList<RowRef> removedBefore)
    {
        var acknowledged = new List<OutboxRow>(batch.Count);
        var parked = new List<(RowRef, string)>();
        var holding = held.Select(RowRef.Of).ToList();
        var retry = new List<OutboxRow>();
        var parkedKeys = new HashSet<string>(StringComparer.Ordinal);
        var retriedKeys = new HashSet<string>(StringComparer.Ordinal);
        string? firstError = null;
        var ackedAfterFailure = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var row = batch[i];
            var outcome = outcomes[i];
            switch (outcome.Status)
            {
                case PublishStatus.Acknowledged:
                    if (parkedKeys.Contains(row.Key) || retriedKeys.Contains(row.Key)) ackedAfterFailure++;
                    acknowledged.Add(row);
                    break;
                case PublishStatus.PermanentFailure:
                    parked.Add((RowRef.Of(row), outcome.Error ?? "rejected by Kafka"));
                    parkedKeys.Add(row.Key);
                    break;
                case PublishStatus.HeldBack when parkedKeys.Contains(row.Key):
                    holding.Add(RowRef.Of(row));
                    break;
                default:
                    // Refused for now, or held back behind a row refused for now: published again, in this order.
                    retry.Add(row);
                    firstError ??= outcome.Error;
                    retriedKeys.Add(row.Key);
                    break;
            }
        }
        // A key parked now holds whatever of it this activation still has, wherever it waits.
        if (parkedKeys.Count > 0)
        {
            holding.AddRange(retry.Where(r => parkedKeys.Contains(r.Key)).Select(RowRef.Of));
            retry.RemoveAll(r => parkedKeys.Contains(r.Key));
        }
        return new BatchResult(acknowledged, new BatchCompletion([.. removedBefore, .. acknowledged.Select(RowRef.Of)], parked, holding), retry,
            firstError, ackedAfterFailure, parkedKeys);
    }

    /// <summary>
    /// Sorts rows taken for publishing: rows removed lately that a read returned again are to be removed again, rows of
    /// keys parked by this activation that the database could not hold yet are to be held, the rest to be published.
    /// </summary>
    private (List<OutboxRow> Batch, List<OutboxRow> Held, List<RowRef> Removed) Sort(List<QueuedRow> taken)
    {
        var batch = new List<OutboxRow>(taken.Count);
        var held = new List<OutboxRow>();
        var removed = new List<RowRef>();
        foreach (var (row, sequence) in taken)
        {
            var reference = RowRef.Of(row);
            if (_removed.Any(r => r.Contains(reference))) removed.Add(reference);
            else if (_parkedKeys.TryGetValue(row.Key, out var seen) && sequence < seen) held.Add(row);
            else batch.Add(row);
        }
        return (batch, held, removed);
    }

    private async Task CompleteAsync(OwedCompletion owed, CancellationToken stopNow)
    {
        if (owed.Completion.IsEmpty) return;
        _owed = owed;
        await _completer.CompleteAsync(_feed, owed.Completion, stopNow).ConfigureAwait(false);
        _owed = null;
        if (_removed.Count == RemovedBatchesKept) _removed.Dequeue();
        _removed.Enqueue([.. owed.Completion.Published]);
        // Rows of a key parked just now that the reader read before the parking committed are held when they come.
        var seenFrom = _reader.NextSequence;
        foreach (var key in owed.ParkedKeys) _parkedKeys[key] = seenFrom;
    }

    private void Record(BatchResult result, long started)
    {
        var now = DateTimeOffset.UtcNow;
        long bytes = 0;
        foreach (var row in result.Acknowledged)
        {
            _metrics.CommitToAck.Record((now - row.CreatedAt).TotalSeconds);
            bytes += row.Payload.Length;
        }
        _metrics.Published.Add(result.Acknowledged.Count);
        _metrics.PublishedBytes.Add(bytes);
        if (result.Completion.Parked.Count > 0)
        {
            _metrics.PublishFailures.Add(result.Completion.Parked.Count, new KeyValuePair<string, object?>("error.type", "permanent"));
            foreach (var (row, reason) in result.Completion.Parked) LogParked(_logger, Partition, row.Id, reason);
        }
        if (result.AckedAfterFailure > 0) LogAckedAfterFailure(_logger, Partition, result.AckedAfterFailure);
        if (result.Retry.Count > 0)
            _metrics.PublishFailures.Add(result.Retry.Count, new KeyValuePair<string, object?>("error.type", "transient"));
        if (result.Acknowledged.Count > 0) _metrics.BatchSize.Record(result.Acknowledged.Count);
        _metrics.DrainDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>What one publish attempt came to.</summary>
    /// <param name="Acknowledged">Rows Kafka acknowledged, in order.</param>
    /// <param name="Completion">What to remove, park and hold under the epoch fence.</param>
    /// <param name="Retry">Rows to publish again first, in order.</param>
    /// <param name="FirstTransientError">The first error of those, for the log.</param>
    /// <param name="AckedAfterFailure">
    /// Rows acknowledged although an earlier row of their key failed asynchronously in the same batch: Kafka holds them
    /// ahead of it. Only a broker-side rejection or a timeout of one message but not the next can do this.
    /// </param>
    /// <param name="ParkedKeys">Keys with a row parked now.</param>
    internal sealed record BatchResult(List<OutboxRow> Acknowledged, BatchCompletion Completion, List<OutboxRow> Retry, string? FirstTransientError,
        int AckedAfterFailure, IReadOnlySet<string> ParkedKeys);

    /// <summary>A completion until it committed, with the keys it parks (recorded once it did).</summary>
    private sealed record OwedCompletion(BatchCompletion Completion, IReadOnlySet<string> ParkedKeys);

    [LoggerMessage(EventId = OutboxEventId.MessageParked, Level = LogLevel.Warning, Message = "Partition {Partition}: row {RowId} parked: {Reason}")]
    private static partial void LogParked(ILogger logger, int partition, long rowId, string reason);

    [LoggerMessage(EventId = OutboxEventId.AcknowledgedOutOfOrder, Level = LogLevel.Warning, Message = "Partition {Partition}: {Count} message(s) were acknowledged after an earlier message of their key failed; Kafka holds them ahead of it")]
    private static partial void LogAckedAfterFailure(ILogger logger, int partition, int count);
}
