namespace Outbox.Contracts;

/// <summary>One outbox partition as an operator sees it.</summary>
/// <param name="Partition">The partition number.</param>
/// <param name="Owner">The silo that owns it (holds its current epoch); null when none ever did.</param>
/// <param name="Epoch">Its ownership epoch: a new owner takes the next one, and a stale owner is fenced off.</param>
/// <param name="Paused">Whether an operator paused it: its rows stay until it is resumed.</param>
/// <param name="ActivatedAt">When its current owner took it.</param>
/// <param name="LastPublishedAt">When it last completed a batch.</param>
/// <param name="Backlog">Rows in the outbox (due, scheduled and parked).</param>
/// <param name="Scheduled">Rows whose deliver-at is still in the future.</param>
/// <param name="Parked">Parked (poison) rows, each holding back the rest of its key.</param>
/// <param name="OldestPendingAgeSeconds">Age of the oldest due, unparked row; null when none is waiting.</param>
public sealed record PartitionStatus(
    int Partition,
    string? Owner,
    long Epoch,
    bool Paused,
    DateTimeOffset? ActivatedAt,
    DateTimeOffset? LastPublishedAt,
    long Backlog,
    long Scheduled,
    long Parked,
    double? OldestPendingAgeSeconds);
