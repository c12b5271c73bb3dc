using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// What passes between the silo's <see cref="RelayReader"/>, which reads the rows of every partition of the silo, and
/// one partition's activation, which publishes them: a bounded queue of rows in the order they must be published, and
/// what the reader knows of the partition (whether it follows the change feed or reads itself from a cursor, when its
/// next scheduled row is due, whether its epoch was fenced). One per activation: a new activation registers a new one.
/// </summary>
/// <remarks>
/// The queue is shared (the reader appends, the activation takes) and guarded by a lock; the rest is the reader's
/// alone, except the flags the activation reads (<see cref="Fenced"/>, <see cref="HasSchedule"/>), which are volatile.
/// A partition follows the feed while its queue keeps up; when the queue would overflow (Kafka slow or away) the
/// reader drops it and the partition reads itself from its first row, so memory stays bounded and nothing is lost.
/// </remarks>
internal sealed class PartitionFeed(int partition, long epoch, int maxRows, long maxBytes, Action? roomForRead = null) : IDisposable
{
    private readonly Lock _lock = new();
    private bool _disposed;
    private readonly Queue<QueuedRow> _queue = new();
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _queuedBytes;
    private volatile bool _fenced;
    private volatile bool _hasSchedule;
    // Cursor != null, kept where the activation can read it: Cursor is the reader's, and a long? is not read atomically.
    private volatile bool _catchingUp = true;

    public int Partition { get; } = partition;

    public long Epoch { get; } = epoch;

    /// <summary>A newer epoch owns the partition: the activation must stop.</summary>
    public bool Fenced => _fenced;

    /// <summary>The partition has scheduled rows (its activation keeps its durable reminder registered meanwhile).</summary>
    public bool HasSchedule => _hasSchedule;

    /// <summary>Reader: null while the partition follows the feed; otherwise it reads itself from this id (catching up).</summary>
    internal long? Cursor
    {
        get;
        private set
        {
            field = value;
            _catchingUp = value is not null;
        }
    } = 0;

    /// <summary>Rows wait in the queue, or the partition reads itself and more may come: its next batch should not wait.</summary>
    public bool HasMoreToPublish
    {
        get
        {
            lock (_lock)
            {
                if (_queue.Count > 0) return true;
            }
            return _catchingUp;
        }
    }

    /// <summary>Reader: the last read found the partition paused: no reads until it is woken.</summary>
    internal bool Unreadable { get; set; }

    /// <summary>
    /// The reader's statement number when the partition was last woken: a statement numbered no higher may have begun
    /// before the resume that woke it, so its "paused" does not make the partition unreadable again.
    /// </summary>
    internal long WokenAt { get; set; }

    /// <summary>Reader: the ids the last catch-up read returned; the next feed window may return them again.</summary>
    internal HashSet<long>? LastRead { get; set; }

    /// <summary>Reader: when (Stopwatch timestamp) the partition's next scheduled row is due; null when none is known.</summary>
    internal long? DueAt { get; private set; }

    /// <summary>Rows waiting to be taken.</summary>
    public int Count
    {
        get { lock (_lock) return _queue.Count; }
    }

    /// <summary>Reader: room for one more batch from a catch-up read (at most one batch waits besides the one in flight).</summary>
    internal bool HasRoomForRead()
    {
        lock (_lock) return HasRoomForReadLocked();
    }

    /// <summary>
    /// Reader: appends rows read by statement <paramref name="sequence"/>, in order. When they do not fit, the queue is
    /// dropped and the partition reads itself from its first row; returns false then.
    /// </summary>
    internal bool Append(IEnumerable<OutboxRow> rows, long sequence)
    {
        lock (_lock)
        {
            foreach (var row in rows)
            {
                if (_queue.Count >= maxRows || _queuedBytes >= maxBytes)
                {
                    ReadFromLocked(0);
                    return false;
                }
                _queue.Enqueue(new QueuedRow(row, sequence));
                _queuedBytes += row.Payload.Length;
            }
            return true;
        }
    }

    /// <summary>
    /// Reader: the partition reads itself from <paramref name="cursor"/> on (or stays at a lower cursor); queued rows at
    /// or above it are dropped, since the reads return them again.
    /// </summary>
    internal void ReadFrom(long cursor)
    {
        lock (_lock) ReadFromLocked(cursor);
    }

    /// <summary>Reader: a catch-up read reached the end of the partition, or covered it up to <paramref name="next"/> - 1.</summary>
    internal void Advance(long? next) => Cursor = next;

    /// <summary>Reader: the next scheduled row is due at <paramref name="dueAt"/> (null: none). Wakes the activation when it
    /// has scheduled rows now and had none before, or the other way round (it keeps its reminder accordingly).</summary>
    internal void SetDue(long? dueAt)
    {
        DueAt = dueAt;
        if (_hasSchedule == dueAt is not null) return;
        _hasSchedule = dueAt is not null;
        Signal();
    }

    /// <summary>Reader: a scheduled row is due at <paramref name="dueAt"/>, which may come before the one known.</summary>
    internal void AddDue(long dueAt) => SetDue(DueAt is { } known ? Math.Min(known, dueAt) : dueAt);

    /// <summary>Reader: a newer epoch owns the partition.</summary>
    internal void Fence() => _fenced = true;

    /// <summary>
    /// Wakes the activation: rows were queued, or its state changed. Signals coalesce: an activation that was signalled
    /// several times while it was busy looks once more.
    /// </summary>
    public void Signal()
    {
        lock (_lock)
        {
            // The reader may still hold a feed whose activation has just been disposed: signalling it is a no-op, not an
            // error that would cost the reader the rest of its feed window.
            if (!_disposed && _signal.CurrentCount == 0) _signal.Release();
        }
    }

    /// <summary>Activation: waits until <see cref="Signal"/> was called since the last wait ended.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    /// <summary>Activation: takes up to <paramref name="maxRows"/> rows, ending at the row that reaches <paramref name="budget"/> bytes.</summary>
    /// <remarks>
    /// A partition catching up whose queue had no room for the reader's next read tells the reader when it has: the read
    /// then runs at once rather than at the reader's next interval.
    /// </remarks>
    public List<QueuedRow> Take(int maxRows, long budget)
    {
        List<QueuedRow> taken;
        bool roomMade;
        lock (_lock)
        {
            var hadRoom = HasRoomForReadLocked();
            taken = new List<QueuedRow>(Math.Min(maxRows, _queue.Count));
            long bytes = 0;
            while (taken.Count < maxRows && bytes < budget && _queue.TryDequeue(out var next))
            {
                taken.Add(next);
                bytes += next.Row.Payload.Length;
                _queuedBytes -= next.Row.Payload.Length;
            }
            roomMade = !hadRoom && HasRoomForReadLocked() && Cursor is not null;
        }
        if (roomMade) roomForRead?.Invoke();
        return taken;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _signal.Dispose();
        }
    }

    private bool HasRoomForReadLocked() => _queue.Count < maxRows / 2 && _queuedBytes < maxBytes / 2;

    private void ReadFromLocked(long cursor)
    {
        Cursor = Cursor is { } current ? Math.Min(current, cursor) : cursor;
        LastRead = null;
        if (_queue.Count == 0) return;
        var kept = _queue.Where(q => q.Row.Id < Cursor).ToArray();
        _queue.Clear();
        _queuedBytes = 0;
        foreach (var q in kept)
        {
            _queue.Enqueue(q);
            _queuedBytes += q.Row.Payload.Length;
        }
    }
}

/// <summary>A row as the reader queued it, with the number of the reader's statement that read it.</summary>
internal readonly record struct QueuedRow(OutboxRow Row, long Sequence);
