namespace Outbox.Grains.Storage;

/// <summary>
/// A statement's view of which transactions were still running, as 64-bit transaction ids: <c>pg_current_snapshot()</c>'s
/// xmin and xmax, and in <see cref="InProgress"/> its in-progress list plus every id assigned at or above xmax by then
/// (those are running too, but a snapshot does not list them; see read_batch.sql).
/// </summary>
internal sealed record TransactionSnapshot(long Xmin, long Xmax, IReadOnlySet<long> InProgress)
{
    /// <summary>True when transaction <paramref name="xid"/> had ended (committed or rolled back) when the snapshot was taken.</summary>
    public bool HasFinished(long xid) => xid < Xmin || (xid < Xmax && !InProgress.Contains(xid));
}
