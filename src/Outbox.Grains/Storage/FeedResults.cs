namespace Outbox.Grains.Storage;

/// <summary>
/// A statement's snapshot as the change feed keeps it between statements: the next window is everything that became
/// visible after it. <see cref="Xmax"/> and <see cref="Xip"/> are 64-bit transaction ids.
/// </summary>
internal sealed record FeedSnapshot(long Xmax, long[] Xip);

/// <summary>What the feed found about a row of the window (feed.sql).</summary>
internal enum FeedRowState
{
    /// <summary>Publishable: it comes with its payload.</summary>
    Publish,

    /// <summary>Scheduled for later: released when due (maintain.sql).</summary>
    Scheduled,

    /// <summary>Parked (an operator's retry puts it back on the feed).</summary>
    Parked,

    /// <summary>An earlier row of its key is scheduled, held or parked: it must be marked to wait with it.</summary>
    Blocked,

    /// <summary>Its partition is paused: the partition reads itself from its first row once resumed.</summary>
    Paused,
}

/// <summary>
/// A row of a feed window, with its partition's current epoch (a registration holding another one was fenced).
/// <see cref="DueIn"/> is set for scheduled rows (the database's clock).
/// </summary>
internal readonly record struct FeedRow(int Partition, long Epoch, OutboxRow Row, FeedRowState State, TimeSpan? DueIn);

/// <summary>One feed statement's answer.</summary>
/// <param name="Snapshot">The snapshot the window ends at (and the next one starts from).</param>
/// <param name="Incarnation">When the database server last started: a change means the database may have gone back in time.</param>
/// <param name="Overflow">More rows than the statement's limit became visible in the window: partitions must read themselves.</param>
/// <param name="Rows">The window's rows of this silo's partitions, unordered.</param>
internal sealed record FeedResult(FeedSnapshot Snapshot, DateTime Incarnation, bool Overflow, IReadOnlyList<FeedRow> Rows);

/// <summary>A partition that reads its rows from <see cref="Cursor"/> on (catching up), under <see cref="Epoch"/>.</summary>
internal readonly record struct CatchUpRead(int Partition, long Epoch, long Cursor);

/// <summary>A row the feed found blocked, to mark (by id and event id: after a failover an id may name another message).</summary>
internal readonly record struct RowToMark(int Partition, long Id, Guid EventId);

/// <summary>The work of one maintenance statement (maintain.sql).</summary>
internal sealed record MaintenanceRequest(IReadOnlyList<CatchUpRead> Reads, IReadOnlyList<int> Releases, IReadOnlyList<RowToMark> Marks)
{
    public bool IsEmpty => Reads.Count == 0 && Releases.Count == 0 && Marks.Count == 0;
}

/// <summary>How far a catch-up read got.</summary>
/// <param name="Partition">The partition read.</param>
/// <param name="LastCovered">The last id it covered (null: none), rows marked to wait included.</param>
/// <param name="ReachedEnd">It read everything of the partition at or above its cursor.</param>
/// <param name="Unreadable">The partition is paused, or no longer this silo's (stale epoch).</param>
/// <param name="NextDueIn">When the partition's earliest scheduled row is due (null: none).</param>
internal readonly record struct ReadSummary(int Partition, long? LastCovered, bool ReachedEnd, bool Unreadable, TimeSpan? NextDueIn);

/// <summary>One maintenance statement's answer: catch-up rows (unordered), read summaries, next due times.</summary>
internal sealed record MaintenanceResult(
    IReadOnlyList<(int Partition, OutboxRow Row)> Rows,
    IReadOnlyList<ReadSummary> Reads,
    IReadOnlyList<(int Partition, TimeSpan? DueIn)> NextDue);

/// <summary>A partition's state as the periodic sweep sees it (sweep.sql).</summary>
/// <param name="Partition">The partition.</param>
/// <param name="Current">The epoch is still the partition's and this silo its owner.</param>
/// <param name="NextDueIn">When its earliest scheduled row is due (null: none).</param>
internal readonly record struct SweepResult(int Partition, bool Current, TimeSpan? NextDueIn);
