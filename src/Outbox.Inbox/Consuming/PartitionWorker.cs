using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// The single worker of one assigned Kafka partition: it takes the events the poll loop hands it, in order, in
/// batches of what is waiting (up to Inbox:MaxBatchSize), and runs each batch to its commit before the next, so
/// a partition (and so a key) is applied in order while partitions run concurrently. Between batches it applies
/// the parked events of its partition that an operator released. It remembers the offset after the last
/// committed batch, which is all the poll loop ever commits to Kafka.
/// </summary>
internal sealed partial class PartitionWorker : IDisposable
{
    private readonly Channel<ConsumeResult<byte[], byte[]>> _queue =
        Channel.CreateUnbounded<ConsumeResult<byte[], byte[]>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly BatchRunner _runner;
    private readonly InboxOptions _options;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private int _queued;
    private long _committed;
    private long _lastCommittedToKafka = Offset.Unset.Value;

    public PartitionWorker(TopicPartition partition, BatchRunner runner, InboxOptions options, ILogger logger)
    {
        Partition = partition;
        _runner = runner;
        _options = options;
        _logger = logger;
        _committed = Offset.Unset.Value;
        _loop = Task.Run(RunAsync);
    }

    public TopicPartition Partition { get; }

    /// <summary>Events handed over and not yet committed in a batch.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Whether the poll loop paused fetching this partition (too much read ahead).</summary>
    public bool Paused { get; set; }

    /// <summary>Kafka's high watermark as last seen by the poll loop (for the lag gauge).</summary>
    public long HighWatermark { get; set; } = Offset.Unset.Value;

    /// <summary>The consumer's fetch position, for the lag of a partition that has not committed a batch yet.</summary>
    public long Position { get; set; } = Offset.Unset.Value;

    /// <summary>The offset of the next event to apply: everything before it is committed in the database.</summary>
    public long CommittedOffset => Interlocked.Read(ref _committed);

    /// <summary>The offset to commit to Kafka, when the database is ahead of what Kafka was last told.</summary>
    public TopicPartitionOffset? OffsetToCommit()
    {
        var committed = CommittedOffset;
        return committed >= 0 && committed != Interlocked.Read(ref _lastCommittedToKafka)
            ? new TopicPartitionOffset(Partition, new Offset(committed))
            : null;
    }

    public void CommittedToKafka(long offset) => Interlocked.Exchange(ref _lastCommittedToKafka, offset);

    /// <summary>Called by the poll loop only, in offset order.</summary>
    public void Enqueue(ConsumeResult<byte[], byte[]> result)
    {
        Interlocked.Increment(ref _queued);
        _queue.Writer.TryWrite(result);
    }

    /// <summary>
    /// Stops taking batches; the batch in flight may finish (and count as committed) within <paramref name="grace"/>,
    /// after which it is cancelled and rolls back. Returns false when it had to be cancelled.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace)
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        var finished = await Task.WhenAny(_loop, Task.Delay(grace)).ConfigureAwait(false) == _loop;
        if (!finished) await _aborted.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Dispose();
        return finished;
    }

    /// <summary>The partition was lost: the group gave it to another member, so nothing more may be committed.</summary>
    public async Task AbortAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _aborted.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Dispose();
    }

    /// <summary>Releases the stop tokens; called once the loop has ended.</summary>
    public void Dispose()
    {
        _stopping.Dispose();
        _aborted.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<InboxEvent>(_options.MaxBatchSize);
        var nextParkedCheck = DateTime.UtcNow;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                if (DateTime.UtcNow >= nextParkedCheck)
                {
                    await _runner.ReleaseParkedAsync(Partition, _aborted.Token).ConfigureAwait(false);
                    nextParkedCheck = DateTime.UtcNow + _options.ParkedCheckInterval;
                }
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
                {
                    wait.CancelAfter(nextParkedCheck - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
                    try
                    {
                        if (!await _queue.Reader.WaitToReadAsync(wait.Token).ConfigureAwait(false)) return;
                    }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
                    {
                        continue; // time for the parked check
                    }
                }
                long last = -1;
                while (batch.Count < _options.MaxBatchSize && _queue.Reader.TryRead(out var result))
                {
                    batch.Add(EventHeaders.Read(result));
                    last = result.Offset.Value;
                }
                if (batch.Count == 0) continue;
                // Once started, a batch is not interrupted by a stop request, only by an abort (grace over, or lost).
                await _runner.RunAsync(batch.ToArray(), _aborted.Token).ConfigureAwait(false);
                Interlocked.Exchange(ref _committed, last + 1);
                Interlocked.Add(ref _queued, -batch.Count);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (_aborted.IsCancellationRequested || _stopping.IsCancellationRequested)
        {
            // Stopped: the uncommitted batch rolled back and is redelivered to the partition's next owner.
        }
        catch (Exception e)
        {
            // Not a database outage (those are retried) nor a handler failure (parked): a defect. The partition
            // stops here, uncommitted; the health check reports it and a restart redelivers from the last commit.
            Failure = e;
            LogFailed(_logger, e, _options.GroupId, Partition.Topic, Partition.Partition.Value);
        }
    }

    /// <summary>Set when the worker stopped on an unexpected error.</summary>
    public Exception? Failure { get; private set; }

    [LoggerMessage(EventId = Diagnostics.InboxEventId.ConsumerFailed, Level = LogLevel.Error, Message = "Group {Group}: the worker of {Topic}/{Partition} stopped on an unexpected error")]
    private static partial void LogFailed(ILogger logger, Exception exception, string group, string topic, int partition);
}
