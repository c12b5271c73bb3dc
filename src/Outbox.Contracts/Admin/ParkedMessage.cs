namespace Outbox.Contracts.Admin;

/// <summary>A message Kafka refused permanently; its key waits behind it until an operator retries or discards it.</summary>
/// <param name="Partition">The outbox partition of its key.</param>
/// <param name="Id">The row id (rising with insertion order within a partition; the Kafka header outbox-sequence).</param>
/// <param name="EventId">The event id chosen at enqueue (the Kafka header outbox-event-id).</param>
/// <param name="Topic">The Kafka topic it is for.</param>
/// <param name="Key">Its ordering key, which waits behind it.</param>
/// <param name="Attempts">How many times Kafka refused it.</param>
/// <param name="ParkedAt">When it was parked (last refused).</param>
/// <param name="Reason">Kafka's error, as the relay recorded it.</param>
/// <param name="PayloadBytes">The payload's size.</param>
/// <param name="CreatedAt">When it was enqueued.</param>
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
