namespace Outbox.Grains.Storage;

/// <summary>A row of the outbox waiting to be published, as the relay reads it.</summary>
internal sealed record OutboxRow(
    long Id,
    Guid EventId,
    string Topic,
    string Key,
    byte[] Payload,
    string? HeadersJson,
    string? EventType,
    DateTimeOffset CreatedAt,
    string? Traceparent,
    string? Tracestate);
