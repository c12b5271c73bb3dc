namespace Outbox.Grains.Storage;

/// <summary>
/// The highest outbox id at or below which no row can still appear: every transaction that may hold such an id
/// has finished, so each of those rows is either visible now or never will be. This is PgQ's technique of reasoning
/// with transaction snapshots instead of trusting id order (ids are drawn at insert, rows become visible at commit,
/// so id 100 can appear after id 101). One horizon per silo, fed by every statement that reports its snapshot
/// (batch reads and the change probe); ids are global, so the partitions share it.
/// </summary>
/// <remarks>
/// A checkpoint pairs an id S, read by a statement that finished before a later statement's snapshot was taken,
/// with that snapshot's running transactions. Enqueueing takes its transaction id before drawing a row id
/// (013_quiet_enqueue.sql), so whoever holds an id at or below S was either finished at that snapshot or is in
/// its in-progress list; once all of those are seen finished, S is settled.
/// </remarks>
internal sealed class SettledHorizon
{
    private const int MaxCheckpoints = 64;
    private readonly Lock _lock = new();
    private readonly List<Checkpoint> _pending = [];
    private long _settled;
    private long _sequenceSeen;

    /// <summary>Every id at or below this belongs to a finished transaction.</summary>
    public long Settled
    {
        get { lock (_lock) return _settled; }
    }

    /// <summary>The last id handed out, as read by a statement that already returned: take it before issuing the next one.</summary>
    public long SequenceSeen
    {
        get { lock (_lock) return _sequenceSeen; }
    }

    /// <summary>
    /// Records a statement's snapshot: <paramref name="sequenceBefore"/> is <see cref="SequenceSeen"/> taken before the
    /// statement was sent, <paramref name="sequenceNow"/> the id the statement itself read.
    /// </summary>
    public void Observe(long sequenceBefore, long sequenceNow, TransactionSnapshot snapshot)
    {
        lock (_lock)
        {
            _pending.Add(new Checkpoint(sequenceBefore, [.. snapshot.InProgress], DateTime.UtcNow));
            _pending.RemoveAll(c =>
            {
                if (!c.Transactions.All(snapshot.HasFinished)) return false;
                _settled = Math.Max(_settled, c.Bound);
                return true;
            });
            if (_pending.Count > MaxCheckpoints)
            {
                // Merging stays true: the larger bound is settled once the transactions of both have finished.
                var (a, b) = (_pending[0], _pending[1]);
                _pending.RemoveRange(0, 2);
                _pending.Insert(0, new Checkpoint(Math.Max(a.Bound, b.Bound), [.. a.Transactions.Union(b.Transactions)], a.Since));
            }
            _sequenceSeen = Math.Max(_sequenceSeen, sequenceNow);
        }
    }

    /// <summary>Transactions that have held the horizon back for longer than <paramref name="age"/>.</summary>
    public IReadOnlyList<long> HoldingBack(TimeSpan age)
    {
        var before = DateTime.UtcNow - age;
        lock (_lock) return _pending.Where(c => c.Since < before).SelectMany(c => c.Transactions).Distinct().ToArray();
    }

    /// <summary>
    /// Stops waiting for transactions known to hold no outbox id (they never wrote to outbox.messages, such as a
    /// long report or an idle session), so one long transaction elsewhere does not hold the horizon back. Only for
    /// checkpoints whose ids were all handed out before that was checked (<paramref name="checkedAfter"/>: the
    /// <see cref="SequenceSeen"/> taken before the check was sent): a transaction may write its first row just after
    /// the check, and its id is then above every such bound.
    /// </summary>
    public void Forget(IReadOnlyCollection<long> transactions, long checkedAfter)
    {
        if (transactions.Count == 0) return;
        lock (_lock)
        {
            for (var i = 0; i < _pending.Count; i++)
            {
                if (_pending[i].Bound <= checkedAfter)
                    _pending[i] = _pending[i] with { Transactions = [.. _pending[i].Transactions.Except(transactions)] };
            }
            _pending.RemoveAll(c =>
            {
                if (c.Transactions.Length > 0) return false;
                _settled = Math.Max(_settled, c.Bound);
                return true;
            });
        }
    }

    private sealed record Checkpoint(long Bound, long[] Transactions, DateTime Since);
}
