namespace Outbox.Contracts;

/// <summary>One outbox partition as an operator sees it.</summary>
/// <param name="Backlog">Rows in the outbox (due, scheduled and parked).</param>
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
