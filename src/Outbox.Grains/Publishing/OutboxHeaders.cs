namespace Outbox.Grains.Publishing;

/// <summary>
/// Kafka header names the relay writes. Consumers drop duplicates by <see cref="EventId"/>; a re-published
/// row carries the same event id and the same <see cref="Sequence"/>.
/// </summary>
public static class OutboxHeaders
{
    public const string EventId = "outbox-event-id";
    public const string EventType = "outbox-event-type";
    public const string Partition = "outbox-partition";
    /// <summary>The row's id: increases with insertion order within a partition, stable across re-publishing.</summary>
    public const string Sequence = "outbox-sequence";
    /// <summary>Unix milliseconds when the row was written.</summary>
    public const string CreatedAt = "outbox-created-at";
    public const string Traceparent = "traceparent";
    public const string Tracestate = "tracestate";
}
