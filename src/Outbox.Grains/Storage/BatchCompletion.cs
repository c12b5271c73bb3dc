namespace Outbox.Grains.Storage;

/// <summary>
/// A row as completions name it: by id and event id together, because after the database went back in time (a
/// failover to a standby that missed transactions, a sequence set back) an id may name another message. A null event
/// id matches by id alone (progress records written before event ids were recorded).
/// </summary>
internal readonly record struct RowRef(long Id, Guid? EventId)
{
    public static RowRef Of(OutboxRow row) => new(row.Id, row.EventId);
}

/// <summary>
/// What to record after a publish attempt, under the partition's epoch: rows Kafka acknowledged (removed), rows it
/// refused for good (parked, with the reason), and rows of a parked key held behind it (marked to wait).
/// </summary>
internal sealed record BatchCompletion(IReadOnlyList<RowRef> Published, IReadOnlyList<(RowRef Row, string Reason)> Parked, IReadOnlyList<RowRef> Held)
{
    public bool IsEmpty => Published.Count == 0 && Parked.Count == 0 && Held.Count == 0;
}

/// <summary>The database's answer for one partition: whether its epoch was still current, and what was removed and parked.</summary>
internal readonly record struct CompletionResult(bool Current, int Removed, int Parked);
