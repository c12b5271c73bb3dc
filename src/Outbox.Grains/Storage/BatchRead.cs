namespace Outbox.Grains.Storage;

/// <summary>
/// One read of a partition: its rows in id order, the id it actually began at (lower than asked when a row below
/// the read position became publishable again), and the settled horizon as it was before the read was sent (every
/// id at or below it that the read did not return was already gone, or will never appear).
/// </summary>
internal sealed record BatchRead(IReadOnlyList<OutboxRow> Rows, long ReadFrom, long SettledBefore)
{
    /// <summary>What read_batch.sql reports beside the rows: see its header comment.</summary>
    internal sealed record Header(long ReadFrom, long Sequence, TransactionSnapshot Snapshot, bool Readable);
}
