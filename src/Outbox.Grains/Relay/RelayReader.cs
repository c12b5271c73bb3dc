using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Storage;
using Outbox.Grains.Wake;

namespace Outbox.Grains.Relay;

/// <summary>
/// Reads for every partition active in this silo, on one connection, one statement at a time: the change feed (rows
/// that became publishable since the previous feed statement), catch-up reads of partitions that read themselves from a
/// cursor, releases of scheduled rows that fell due, and a periodic sweep. Rows go to each partition's
/// <see cref="PartitionFeed"/>, and its activation is woken to publish them. A busy silo runs a statement per
/// <see cref="WakeOptions.ProbeInterval"/> for all its partitions together, so the database's cost follows the rows, not
/// the partitions; one that received no row for a second runs one small statement per
/// <see cref="WakeOptions.IdleProbeInterval"/>.
/// </summary>
/// <remarks>
/// Correctness rests on three rules. (1) Every statement's snapshot is later than the previous one's (one connection,
/// one statement at a time): a catch-up read sees what the feed returned before it, and the next feed window starts
/// where the previous one ended, so the two hand over without a gap. (2) A partition that has not followed every feed
/// window since its activation reads itself from its first row (registration, overflow, a change of database), and
/// drops nothing the reads return. (3) Everything derived from the database (the window, cursors, due times) belongs to
/// one incarnation of it: when the server restarted or failed over, it is all dropped and every partition reads itself
/// from its first row.
/// </remarks>
internal sealed partial class RelayReader : ILifecycleParticipant<ISiloLifecycle>, IAsyncDisposable
{
    /// <summary>Rows a feed window may hold before the partitions read themselves instead (a bulk insert).</summary>
    private const int FeedLimitBatches = 4;

    /// <summary>Bytes of catch-up rows one maintenance statement reads at most, over all partitions.</summary>
    private const long ReadBytesPerStatement = 16 * 1024 * 1024;

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>How long the silo receives no row before it probes at the idle interval.</summary>
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<int, PartitionFeed> _feeds = new();

    /// <summary>The registered feeds, as an array the cycle walks without allocating (replaced on every registration).</summary>
    private PartitionFeed[] _all = [];

    /// <summary>Feeds whose last catch-up read's ids the next feed window may return again.</summary>
    private readonly List<PartitionFeed> _lastReads = [];
    private readonly ChangeFeed _statements;
    private readonly RelayCompleter _completer;
    private readonly RelayOptions _relay;
    private readonly WakeOptions _wake;
    private readonly string _owner;
    private readonly ILogger<RelayReader> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<RowToMark> _marks = [];
    private Task _loop = Task.CompletedTask;
    private long _sequence;
    private int _readTurn;
    private FeedSnapshot? _window;
    private DateTime _incarnation;
    private bool _busy;
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private long _nextSweep;
    private long _lastAnswer;
    private long _lastRows;

    public RelayReader(NpgsqlDataSource dataSource, RelayCompleter completer, IOptions<RelayOptions> relay, IOptions<WakeOptions> wake,
        ILocalSiloDetails silo, ILogger<RelayReader> logger)
    {
        _statements = new ChangeFeed(dataSource);
        _completer = completer;
        _relay = relay.Value;
        _wake = wake.Value;
        _owner = silo.Name;
        _logger = logger;
    }

    /// <summary>
    /// Whether the reader's statements succeeded within <paramref name="age"/>: the relay's own view of whether the
    /// database answers it, at no cost (readiness asks this rather than taking a connection of its own).
    /// </summary>
    public bool AnsweredWithin(TimeSpan age) =>
        Volatile.Read(ref _lastAnswer) is var last and not 0 && Stopwatch.GetElapsedTime(last) <= age;

    /// <summary>The number the reader's next statement will carry: rows of statements numbered lower were read before now.</summary>
    public long NextSequence => Interlocked.Read(ref _sequence) + 1;

    /// <summary>
    /// A new activation of <paramref name="partition"/> with <paramref name="epoch"/>: it reads itself from its first row,
    /// then follows the feed. Replaces an older activation's registration.
    /// </summary>
    public PartitionFeed Register(int partition, long epoch)
    {
        var feed = new PartitionFeed(partition, epoch, 2 * _relay.BatchSize, 2L * _relay.BatchMaxBytes, Nudge);
        _feeds[partition] = feed;
        Volatile.Write(ref _all, [.. _feeds.Values]);
        Nudge();
        return feed;
    }

    /// <summary>The activation that registered <paramref name="feed"/> stopped.</summary>
    public void Unregister(PartitionFeed feed)
    {
        if (_feeds.TryRemove(new KeyValuePair<int, PartitionFeed>(feed.Partition, feed))) Volatile.Write(ref _all, [.. _feeds.Values]);
    }

    /// <summary>
    /// Asks for the partition to be looked at again at once: after an operator's change (a pause ended), or a drain
    /// request. A paused partition reads itself again, and a scheduled row is released if one is due.
    /// </summary>
    public void Wake(PartitionFeed feed)
    {
        feed.WokenAt = Interlocked.Read(ref _sequence);
        feed.Unreadable = false;
        Nudge();
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(RelayReader), ServiceLifecycleStage.Active, OnActive, OnStopping);

    public async ValueTask DisposeAsync()
    {
        await _statements.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _nudge.Dispose();
    }

    private Task OnActive(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopping(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs the next cycle now rather than at the next interval.</summary>
    private void Nudge()
    {
        lock (_nudge)
        {
            if (_nudge.CurrentCount == 0) _nudge.Release();
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var failing = true;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // A nudge (a partition registered or was woken) goes on at once; otherwise after the interval.
                await _nudge.WaitAsync(NextInterval(), cancellationToken).ConfigureAwait(false);
                try
                {
                    await CycleAsync(cancellationToken).ConfigureAwait(false);
                    Volatile.Write(ref _lastAnswer, Stopwatch.GetTimestamp());
                    if (failing) LogRunning(_logger);
                    failing = false;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    // Mostly the database out of reach. The window is kept: when the same database answers again, the next
                    // feed statement covers everything since (a restarted one is recognised by its incarnation).
                    if (!failing) LogFailed(_logger, e);
                    failing = true;
                    _busy = false;
                    await _statements.ResetAsync().ConfigureAwait(false);
                    await Task.Delay(ReconnectDelay, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the loop ends here by design.
        }
    }

    /// <summary>
    /// The probe interval while rows flow or a partition still reads itself from a cursor (its reads may cover long runs
    /// of rows not yet due and return none), the idle one after a quiet second (each probe costs CPU in the silo and the
    /// database, idle or not); never past the earliest scheduled row's due time, which the next cycle releases.
    /// </summary>
    private TimeSpan NextInterval()
    {
        var now = Stopwatch.GetTimestamp();
        if (_busy || Stopwatch.GetElapsedTime(_lastRows, now) < IdleAfter) return _wake.ProbeInterval;
        var wakeAt = now + Ticks(_wake.IdleProbeInterval > _wake.ProbeInterval ? _wake.IdleProbeInterval : _wake.ProbeInterval);
        foreach (var feed in Volatile.Read(ref _all))
        {
            if (feed.Fenced) continue;
            if (feed.Cursor is not null && !feed.Unreadable) return _wake.ProbeInterval;
            if (feed.DueAt is { } due && due < wakeAt) wakeAt = due;
        }
        return TimeSpan.FromTicks(Math.Max(Stopwatch.GetElapsedTime(now, wakeAt).Ticks, _wake.ProbeInterval.Ticks));
    }

    private async Task CycleAsync(CancellationToken cancellationToken)
    {
        await ReadFeedAsync(cancellationToken).ConfigureAwait(false);
        await MaintainAsync(cancellationToken).ConfigureAwait(false);
        if (Stopwatch.GetTimestamp() >= _nextSweep)
        {
            await SweepAsync(cancellationToken).ConfigureAwait(false);
            _nextSweep = Stopwatch.GetTimestamp() + (long)(_relay.SweepInterval.TotalSeconds * Stopwatch.Frequency);
        }
    }

    /// <summary>The feed statement, unless a snapshot shows that no transaction finished since the last one.</summary>
    private async Task ReadFeedAsync(CancellationToken cancellationToken)
    {
        if (_window is { } window && !_busy)
        {
            var now = await _statements.ProbeAsync(cancellationToken).ConfigureAwait(false);
            if (now.Xmax == window.Xmax && Array.TrueForAll(window.Xip, x => Array.IndexOf(now.Xip, x) >= 0)) return;
        }
        var sequence = Interlocked.Increment(ref _sequence);
        var result = await _statements.ReadAsync(_owner, _window, FeedLimitBatches * _relay.BatchSize, cancellationToken).ConfigureAwait(false);
        var restarted = _window is not null && (result.Incarnation != _incarnation || result.Snapshot.Xmax < _window.Xmax);
        _incarnation = result.Incarnation;
        _window = result.Snapshot;
        _busy = result.Rows.Count > 0;
        if (_busy) _lastRows = Stopwatch.GetTimestamp();
        if (restarted || result.Overflow)
        {
            // A database that went back in time may hand out again transaction and row ids this silo saw; a window that
            // overflowed was not read whole. Either way every partition reads itself from its first row.
            if (restarted) LogRestarted(_logger, result.Incarnation);
            else LogOverflow(_logger, FeedLimitBatches * _relay.BatchSize);
            ReadEveryPartitionFromItsFirstRow();
            return;
        }
        try
        {
            Dispatch(result, sequence);
        }
        catch
        {
            // The window has moved on: rows of it that were not dispatched would not come again.
            ReadEveryPartitionFromItsFirstRow();
            throw;
        }
    }

    private void ReadEveryPartitionFromItsFirstRow()
    {
        foreach (var feed in _feeds.Values)
        {
            feed.ReadFrom(0);
            feed.Unreadable = false;
        }
        _marks.Clear();
    }

    private void Dispatch(FeedResult result, long sequence)
    {
        var now = Stopwatch.GetTimestamp();
        var queued = false;
        foreach (var rows in result.Rows.GroupBy(r => r.Partition))
        {
            if (!_feeds.TryGetValue(rows.Key, out var feed)) continue; // not active here (yet): it reads itself when it registers
            var publish = new List<OutboxRow>();
            foreach (var row in rows)
            {
                // A newer epoch owns the partition; an older one is a statement that began before this activation's, whose
                // rows the activation reads itself from its first row.
                if (row.Epoch > feed.Epoch) feed.Fence();
                if (row.Epoch != feed.Epoch) break;
                switch (row.State)
                {
                    case FeedRowState.Publish when feed.Cursor is not { } cursor || row.Row.Id < cursor:
                        if (feed.LastRead?.Contains(row.Row.Id) != true) publish.Add(row.Row);
                        break;
                    case FeedRowState.Blocked:
                        _marks.Add(new RowToMark(row.Partition, row.Row.Id, row.Row.EventId));
                        break;
                    case FeedRowState.Scheduled:
                        feed.AddDue(now + Ticks(row.DueIn ?? TimeSpan.Zero));
                        break;
                    case FeedRowState.Paused:
                        feed.ReadFrom(row.Row.Id);
                        if (sequence > feed.WokenAt) feed.Unreadable = true;
                        break;
                }
            }
            if (publish.Count > 0)
            {
                publish.Sort((a, b) => a.Id.CompareTo(b.Id));
                feed.Append(publish, sequence);
                queued = true;
            }
            WakeIfWaiting(feed);
        }
        // A partition waiting for its completion has more to publish now: its completion need not wait.
        if (queued) _completer.Hurry();
        // The last catch-up reads' rows cannot come again after this window.
        foreach (var feed in _lastReads) feed.LastRead = null;
        _lastReads.Clear();
    }

    /// <summary>Catch-up reads, releases and marks, in one statement when there are any.</summary>
    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        var feeds = Volatile.Read(ref _all);
        List<CatchUpRead>? reads = null;
        List<int>? releases = null;
        var maxReads = (int)Math.Max(1, ReadBytesPerStatement / _relay.BatchMaxBytes);
        // One pass over the partitions, without allocating while there is nothing to do (an idle silo walks them every
        // interval). Reads go round-robin, so that with more partitions catching up than one statement reads, none waits long.
        for (var i = 0; i < feeds.Length; i++)
        {
            var feed = feeds[(i + _readTurn) % feeds.Length];
            if (feed.Fenced) continue;
            if (feed.Cursor is { } cursor && !feed.Unreadable && (reads?.Count ?? 0) < maxReads
                && feed.HasRoomForRead())
                (reads ??= []).Add(new CatchUpRead(feed.Partition, feed.Epoch, cursor));
            if (feed.DueAt <= now) (releases ??= []).Add(feed.Partition);
        }
        _readTurn++;
        if (reads is null && releases is null && _marks.Count == 0) return;
        var request = new MaintenanceRequest(reads ?? [], releases ?? [], [.. _marks]);
        var sequence = Interlocked.Increment(ref _sequence);
        var result = await _statements.MaintainAsync(_owner, request, _relay.BatchSize, _relay.BatchMaxBytes, _relay.BatchSize, cancellationToken)
            .ConfigureAwait(false);
        _marks.Clear();
        now = Stopwatch.GetTimestamp();
        var epochs = request.Reads.ToDictionary(r => r.Partition, r => r.Epoch);
        var rows = result.Rows.ToLookup(r => r.Partition, r => r.Row);
        var queued = false;
        foreach (var read in result.Reads)
        {
            if (!_feeds.TryGetValue(read.Partition, out var feed) || feed.Epoch != epochs[read.Partition]) continue;
            if (read.Unreadable)
            {
                // Unless a resume woke the partition while this statement ran: its snapshot may predate the resume.
                if (sequence > feed.WokenAt) feed.Unreadable = true;
                continue;
            }
            var caughtUp = rows[read.Partition].OrderBy(r => r.Id).ToList();
            feed.Advance(read.ReachedEnd ? null : read.LastCovered + 1);
            feed.LastRead = caughtUp.Select(r => r.Id).ToHashSet();
            _lastReads.Add(feed);
            feed.SetDue(read.NextDueIn is { } dueIn ? now + Ticks(dueIn) : null);
            if (caughtUp.Count > 0)
            {
                feed.Append(caughtUp, sequence);
                _lastRows = now;
                queued = true;
            }
            WakeIfWaiting(feed);
        }
        if (queued) _completer.Hurry();
        var nextDue = result.NextDue.ToDictionary(d => d.Partition, d => d.DueIn);
        foreach (var partition in request.Releases.Concat(nextDue.Keys).Distinct())
        {
            // A released partition without an answer is paused or no longer here: the sweep looks at it again.
            if (_feeds.TryGetValue(partition, out var feed))
                feed.SetDue(nextDue.GetValueOrDefault(partition) is { } dueIn ? now + Ticks(dueIn) : null);
        }
        // Released rows come through the next feed window.
        if (request.Releases.Count > 0) _busy = true;
    }

    /// <summary>Fenced activations, due times and stray held rows of every partition held here, in one statement.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var feeds = _feeds.Values.ToDictionary(f => f.Partition);
        if (feeds.Count == 0) return;
        var results = await _statements.SweepAsync(_owner, feeds.ToDictionary(f => f.Key, f => f.Value.Epoch), cancellationToken).ConfigureAwait(false);
        var now = Stopwatch.GetTimestamp();
        foreach (var result in results)
        {
            if (!feeds.TryGetValue(result.Partition, out var feed)) continue;
            feed.SetDue(result.NextDueIn is { } dueIn ? now + Ticks(dueIn) : null);
            // A paused partition tries again each sweep, in case its resume went unnoticed.
            feed.Unreadable = false;
            if (!result.Current)
            {
                feed.Fence();
                feed.Signal();
            }
        }
    }

    private static void WakeIfWaiting(PartitionFeed feed)
    {
        if (feed.Count > 0 || feed.Fenced) feed.Signal();
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    [LoggerMessage(EventId = OutboxEventId.ChangeFeedRunning, Level = LogLevel.Information, Message = "Relay reader running (change feed and catch-up reads of this silo's partitions)")]
    private static partial void LogRunning(ILogger logger);

    [LoggerMessage(EventId = OutboxEventId.ChangeFeedFailed, Level = LogLevel.Warning, Message = "Relay reader failed (the database out of reach?); retrying every second")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = OutboxEventId.DatabaseIncarnationChanged, Level = LogLevel.Warning,
        Message = "The outbox database restarted or failed over (server started {Incarnation:o}): every partition of this silo reads itself again from its first row")]
    private static partial void LogRestarted(ILogger logger, DateTime incarnation);

    [LoggerMessage(EventId = OutboxEventId.ChangeFeedOverflow, Level = LogLevel.Information,
        Message = "More than {Limit} rows became publishable within one feed window (a bulk insert?): every partition of this silo reads itself from its first row")]
    private static partial void LogOverflow(ILogger logger, int limit);
}
