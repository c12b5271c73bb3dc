namespace Outbox.Grains.Storage;

/// <summary>
/// A row of the outbox waiting to be published, as the relay reads it. <see cref="Read"/> says when the reader's
/// statement that returned it was sent and answered (for <c>Relay:StageTimestamps</c>).
/// </summary>
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
    string? Tracestate)
{
    public ReadTimes Read { get; init; }
}

/// <summary>When (Unix microseconds) the statement that read a row was sent (the relay woke to it) and answered.</summary>
internal readonly record struct ReadTimes(long SentUnixMicros, long AnsweredUnixMicros);
