namespace Outbox.Grains.Publishing;

/// <summary>
/// Kafka header names the relay writes. Consumers drop duplicates by <see cref="EventId"/>; a re-published
/// row carries the same event id and the same <see cref="Sequence"/>.
/// </summary>
public static class OutboxHeaders
{
    /// <summary>The event id chosen at enqueue: the same on every copy of a message, the key to deduplicate by.</summary>
    public const string EventId = "outbox-event-id";

    /// <summary>The event type given at enqueue, when there was one.</summary>
    public const string EventType = "outbox-event-type";

    /// <summary>The outbox partition the row was relayed from.</summary>
    public const string Partition = "outbox-partition";
    /// <summary>The row's id: increases with insertion order within a partition, stable across re-publishing.</summary>
    public const string Sequence = "outbox-sequence";
    /// <summary>Unix milliseconds when the row was written.</summary>
    public const string CreatedAt = "outbox-created-at";
    /// <summary>W3C trace context of the relay's send span (or the enqueuing one when not traced), for consumers to continue.</summary>
    public const string Traceparent = "traceparent";

    /// <summary>W3C tracestate accompanying <see cref="Traceparent"/>.</summary>
    public const string Tracestate = "tracestate";

    /// <summary>
    /// Only with <c>Relay:StageTimestamps</c>: when the relay woke to the row (its read was sent), read it, and produced
    /// it, as <c>wake=N;read=N;produced=N</c> in Unix microseconds of the silo's clock, for measuring where latency goes.
    /// </summary>
    public const string Stages = "outbox-stages";
}
