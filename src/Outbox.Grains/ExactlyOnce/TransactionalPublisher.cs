using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// One partition activation's exactly-once publisher. Each batch goes out in one Kafka transaction together
/// with a progress record naming its rows, and the transaction commits only if every message in it was
/// acknowledged. A message Kafka refuses for good aborts the transaction; it is reported for parking (with the
/// later messages of its key held back) and the rest of the batch goes again in a new transaction, so a
/// transaction commits or aborts as a whole and the per-row outcomes stay those of <see cref="PublishOutcome"/>.
/// </summary>
internal sealed partial class TransactionalPublisher : IOutboxPublisher, IAsyncDisposable
{
    private readonly ExactlyOnceDelivery _delivery;
    private readonly ILogger _logger;
    private IProducer<byte[], byte[]>? _producer;
    private KafkaPublisher? _messages;
    private Task _blockingCall = Task.CompletedTask;

    /// <summary>
    /// Ids of the last committed transaction (from the progress record when the session starts): Kafka has these
    /// rows. At most one committed batch waits for its removal at a time, so remembering the last one is enough
    /// for a batch read again after a failed removal (the database restarting) not to be published twice.
    /// </summary>
    private HashSet<RowRef>? _lastCommitted;

    private TransactionalPublisher(int partition, long epoch, ExactlyOnceDelivery delivery, ILogger logger)
    {
        Partition = partition;
        Epoch = epoch;
        _delivery = delivery;
        _logger = logger;
    }

    public int Partition { get; }

    public long Epoch { get; }

    /// <summary>
    /// Starts the partition's transactional session for <paramref name="epoch"/> (already taken in the database):
    /// InitTransactions, then removal of the rows the last committed transaction published. Only then may the
    /// partition read its first batch.
    /// </summary>
    internal static async Task<TransactionalPublisher> ActivateAsync(int partition, long epoch, ExactlyOnceDelivery delivery, ILogger logger,
        CancellationToken cancellationToken)
    {
        var publisher = new TransactionalPublisher(partition, epoch, delivery, logger);
        try
        {
            await publisher.StartSessionAsync(cancellationToken).ConfigureAwait(false);
            return publisher;
        }
        catch
        {
            await publisher.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<PublishOutcome[]> PublishAsync(int partition, IReadOnlyList<OutboxRow> batch, CancellationToken cancellationToken)
    {
        if (partition != Partition) throw new ArgumentOutOfRangeException(nameof(partition), partition, $"This publisher serves partition {Partition}.");
        if (_producer is null) await StartSessionAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = new PublishOutcome[batch.Count];
        var pending = new List<int>(batch.Count);
        var carried = new List<RowRef>();
        for (var i = 0; i < batch.Count; i++)
        {
            // Rows the last transaction committed are read again when their removal failed: they need removing only,
            // and the next progress record names them too, so it still covers every committed row not yet removed.
            if (_lastCommitted?.Contains(RowRef.Of(batch[i])) == true)
            {
                outcomes[i] = new PublishOutcome(PublishStatus.Acknowledged);
                carried.Add(RowRef.Of(batch[i]));
            }
            else
            {
                pending.Add(i);
            }
        }
        while (pending.Count > 0)
        {
            var rows = pending.Select(i => batch[i]).ToArray();
            var (committed, attempt) = await PublishInTransactionAsync(rows, carried, cancellationToken).ConfigureAwait(false);
            if (committed)
            {
                var done = new HashSet<RowRef>(carried);
                for (var j = 0; j < rows.Length; j++)
                {
                    outcomes[pending[j]] = attempt[j];
                    if (attempt[j].Status == PublishStatus.Acknowledged) done.Add(RowRef.Of(rows[j]));
                }
                _lastCommitted = done;
                break;
            }
            // Aborted. A row refused for good is parked, the later rows of its key are held back behind it, and the
            // rest goes again at once in a new transaction; without such a row, what failed is retried by the drain.
            if (!attempt.Any(o => o.Status == PublishStatus.PermanentFailure))
            {
                var error = attempt.FirstOrDefault(o => o.Status == PublishStatus.TransientFailure).Error;
                for (var j = 0; j < rows.Length; j++)
                {
                    outcomes[pending[j]] = attempt[j].Status == PublishStatus.HeldBack
                        ? attempt[j]
                        : new PublishOutcome(PublishStatus.TransientFailure, error ?? "the Kafka transaction was aborted");
                }
                break;
            }
            var again = new List<int>(pending.Count);
            var parkedKeys = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < rows.Length; j++)
            {
                if (attempt[j].Status == PublishStatus.PermanentFailure)
                {
                    parkedKeys.Add(rows[j].Key);
                    outcomes[pending[j]] = attempt[j];
                }
                else if (attempt[j].Status == PublishStatus.HeldBack || parkedKeys.Contains(rows[j].Key))
                {
                    outcomes[pending[j]] = new PublishOutcome(PublishStatus.HeldBack);
                }
                else
                {
                    again.Add(pending[j]);
                }
            }
            pending = again;
        }
        return outcomes;
    }

    /// <summary>One transaction: the rows, then (once all are acknowledged) the progress record, then the commit.</summary>
    private async Task<(bool Committed, PublishOutcome[] Outcomes)> PublishInTransactionAsync(OutboxRow[] rows, List<RowRef> carried,
        CancellationToken cancellationToken)
    {
        var producer = _producer!;
        try
        {
            producer.BeginTransaction();
        }
        catch (KafkaException e)
        {
            await LoseProducerAsync(e).ConfigureAwait(false);
            return (false, Failed(rows.Length, e.Error));
        }
        var outcomes = await _messages!.PublishAsync(Partition, rows, cancellationToken).ConfigureAwait(false);
        var acknowledged = new List<RowRef>(rows.Length + carried.Count);
        PublishOutcome? transient = null;
        for (var j = 0; j < rows.Length; j++)
        {
            if (outcomes[j].Status == PublishStatus.Acknowledged) acknowledged.Add(RowRef.Of(rows[j]));
            else if (outcomes[j].Status == PublishStatus.TransientFailure) transient ??= outcomes[j];
        }
        if (transient is not null || acknowledged.Count == 0)
        {
            await AbortAsync(cancellationToken).ConfigureAwait(false);
            return (false, outcomes);
        }
        // The progress record goes out only after every row of the transaction was acknowledged: a broker that
        // shows uncommitted data (the embedded mock cluster does) then never shows a record whose rows it lacks.
        acknowledged.AddRange(carried);
        acknowledged.Sort((a, b) => a.Id.CompareTo(b.Id));
        var progress = await ProduceProgressAsync(new ProgressRecord(Epoch, acknowledged), cancellationToken).ConfigureAwait(false);
        if (progress.IsError)
        {
            await AbortAsync(cancellationToken).ConfigureAwait(false);
            // Refused rows (they made the transaction abortable) are parked; a progress failure of its own is transient.
            return (false, outcomes.Any(o => o.Status == PublishStatus.PermanentFailure) ? outcomes : Failed(rows.Length, progress));
        }
        return await CommitAsync(outcomes, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(bool, PublishOutcome[])> CommitAsync(PublishOutcome[] outcomes, CancellationToken cancellationToken)
    {
        var producer = _producer!;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await BlockingAsync(() => producer.CommitTransaction(_delivery.TransactionTimeout), cancellationToken).ConfigureAwait(false);
                return (true, outcomes);
            }
            catch (KafkaRetriableException e) when (attempt < 3)
            {
                // librdkafka says the commit may be retried: the same transaction is committed, not a new one.
                LogCommitRetried(_logger, e, Partition, attempt);
            }
            catch (KafkaTxnRequiresAbortException e)
            {
                LogAborted(_logger, e, Partition, Epoch);
                await AbortAsync(cancellationToken).ConfigureAwait(false);
                return (false, outcomes.Any(o => o.Status == PublishStatus.PermanentFailure) ? outcomes : Failed(outcomes.Length, e.Error));
            }
            catch (KafkaException e)
            {
                // Fatal (e.g. fenced by a newer producer) or still unknown after retries: this producer is done. The
                // next session's InitTransactions settles the transaction and its reconciliation finds out whether
                // these rows were committed.
                await LoseProducerAsync(e).ConfigureAwait(false);
                return (false, Failed(outcomes.Length, e.Error));
            }
        }
    }

    private async Task<Error> ProduceProgressAsync(ProgressRecord record, CancellationToken cancellationToken)
    {
        var reported = new TaskCompletionSource<Error>(TaskCreationOptions.RunContinuationsAsynchronously);
        var message = new Message<byte[], byte[]> { Key = ProgressRecord.Key(Partition), Value = record.Encode() };
        try
        {
            _producer!.Produce(new TopicPartition(_delivery.Topic.Name, _delivery.Topic.KafkaPartitionOf(Partition)), message,
                report => reported.TrySetResult(report.Error));
        }
        catch (ProduceException<byte[], byte[]> e)
        {
            return e.Error;
        }
        return await reported.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task AbortAsync(CancellationToken cancellationToken)
    {
        var producer = _producer!;
        try
        {
            await BlockingAsync(() => producer.AbortTransaction(_delivery.TransactionTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            await LoseProducerAsync(e).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// (Re)starts the transactional session. The epoch is checked first, so a zombie learns it lost the partition
    /// before its InitTransactions could fence the current owner's producer.
    /// </summary>
    private async Task StartSessionAsync(CancellationToken cancellationToken)
    {
        if (!await _delivery.Store.IsCurrentAsync(Partition, Epoch, cancellationToken).ConfigureAwait(false))
            throw new PartitionFencedException(Partition, Epoch);
        var producer = _delivery.Producers.Create(Partition);
        try
        {
            await BlockingAsync(() => producer.InitTransactions(_delivery.TransactionTimeout), cancellationToken).ConfigureAwait(false);
            var last = await _delivery.Reader.ReadLastAsync(Partition, cancellationToken).ConfigureAwait(false);
            if (last is { Rows.Count: > 0 })
            {
                var removed = await _delivery.Completer.CompleteAsync(Partition, Epoch, new BatchCompletion(last.Rows, [], []), cancellationToken)
                    .ConfigureAwait(false);
                LogReconciled(_logger, Partition, Epoch, removed.Removed, last.Rows.Count, last.Epoch);
                _lastCommitted = last.Rows.ToHashSet();
            }
        }
        catch
        {
            // Not reconciled: the producer must not publish. The next attempt starts over.
            await CloseAsync(producer).ConfigureAwait(false);
            throw;
        }
        _producer = producer;
        // The partition's producer is never replaced behind its back (a fatal error ends the session instead), so the
        // wrapper only hands it to the publisher; the producer is disposed here, not through the wrapper.
#pragma warning disable CA2000
        _messages = new KafkaPublisher(new RelayProducer(_ => producer, _delivery.RelayProducerLogger), _delivery.HeaderMode, _delivery.PublisherLogger);
#pragma warning restore CA2000
    }

    private async Task LoseProducerAsync(KafkaException error)
    {
        LogProducerLost(_logger, error, Partition, Epoch);
        var producer = _producer;
        _producer = null;
        _messages = null;
        if (producer is not null) await CloseAsync(producer).ConfigureAwait(false);
    }

    /// <summary>Waits for a transactional call still running on the producer (a cancelled wait does not stop it), then closes it.</summary>
    private async Task CloseAsync(IProducer<byte[], byte[]> producer)
    {
        try
        {
            await _blockingCall.ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            // Its outcome was handled already, or no longer matters: this producer is being given up.
        }
        await Task.Factory.StartNew(producer.Dispose, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
    }

    /// <summary>
    /// librdkafka's transactional calls block for up to a round trip to the coordinator (or the transaction
    /// timeout): they run on a thread of their own, not on the thread pool that runs every other partition.
    /// </summary>
    private Task BlockingAsync(Action call, CancellationToken cancellationToken)
    {
        var task = Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _blockingCall = task;
        return task.WaitAsync(cancellationToken);
    }

    private static PublishOutcome[] Failed(int count, Error error) =>
        Enumerable.Repeat(new PublishOutcome(PublishStatus.TransientFailure, $"{error.Code}: {error.Reason}"), count).ToArray();

    /// <summary>Closes the producer; an open transaction is left to the broker's timeout or the next owner's InitTransactions.</summary>
    public async ValueTask DisposeAsync()
    {
        var producer = _producer;
        _producer = null;
        _messages = null;
        if (producer is not null) await CloseAsync(producer).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = OutboxEventId.PartitionReconciled, Level = LogLevel.Information,
        Message = "Partition {Partition} (epoch {Epoch}): removed {Removed} of the {Committed} row(s) Kafka already has from the transaction of epoch {CommittedEpoch}")]
    private static partial void LogReconciled(ILogger logger, int partition, long epoch, int removed, int committed, long committedEpoch);

    [LoggerMessage(EventId = OutboxEventId.TransactionAborted, Level = LogLevel.Warning, Message = "Partition {Partition} (epoch {Epoch}): the Kafka transaction was aborted; its rows are published again")]
    private static partial void LogAborted(ILogger logger, Exception exception, int partition, long epoch);

    [LoggerMessage(EventId = OutboxEventId.TransactionCommitRetried, Level = LogLevel.Warning, Message = "Partition {Partition}: committing the Kafka transaction failed (attempt {Attempt}); retrying the commit")]
    private static partial void LogCommitRetried(ILogger logger, Exception exception, int partition, int attempt);

    [LoggerMessage(EventId = OutboxEventId.TransactionalProducerLost, Level = LogLevel.Warning,
        Message = "Partition {Partition} (epoch {Epoch}): the transactional producer failed; the next batch starts a new session (InitTransactions and reconciliation)")]
    private static partial void LogProducerLost(ILogger logger, Exception exception, int partition, long epoch);
}
