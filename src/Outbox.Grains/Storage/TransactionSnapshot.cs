namespace Outbox.Grains.Storage;

/// <summary>
/// A statement's view of which transactions were still running (<c>pg_current_snapshot()</c>: xmin, xmax and the
/// in-progress list, as 64-bit transaction ids).
/// </summary>
public sealed record TransactionSnapshot(long Xmin, long Xmax, IReadOnlySet<long> InProgress)
{
    /// <summary>True when transaction <paramref name="xid"/> had ended (committed or rolled back) when the snapshot was taken.</summary>
    public bool HasFinished(long xid) => xid < Xmin || (xid < Xmax && !InProgress.Contains(xid));
}
