namespace Outbox.Contracts.Admin;

/// <summary>A message Kafka refused permanently; its key waits behind it until an operator retries or discards it.</summary>
/// <param name="Waiting">Later messages of the same key held back behind this one.</param>
public sealed record ParkedMessage(
    int Partition,
    long Id,
    Guid EventId,
    string Topic,
    string Key,
    int Attempts,
    DateTimeOffset ParkedAt,
    string? Reason,
    int PayloadBytes,
    DateTimeOffset CreatedAt,
    long Waiting);
