namespace Outbox.Contracts;

/// <summary>
/// The one list of limits every enqueue path enforces: the C# API (<see cref="OutboxMessageValidator"/>) and the
/// SQL function <c>outbox.validate_message</c> (migration 011, run for every row written to outbox.messages)
/// check exactly these values, and a test holds each of them against both sides. A message the relay could
/// never publish is refused in the application's transaction instead of becoming a poison message later.
/// </summary>
public static class OutboxLimits
{
    /// <summary>Kafka's own limit on topic names.</summary>
    public const int MaxTopicLength = 249;

    /// <summary>Ordering keys are identifiers, not data.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Just under Kafka's default 1 MiB message.max.bytes, leaving room for headers and framing.</summary>
    public const int MaxPayloadBytes = 1_000_000;

    /// <summary>UTF-8 bytes of an event type (it travels in a header).</summary>
    public const int MaxEventTypeBytes = 255;

    /// <summary>Headers per message, the relay's own not counted.</summary>
    public const int MaxHeaderCount = 64;

    /// <summary>UTF-8 bytes of one header name.</summary>
    public const int MaxHeaderNameBytes = 255;

    /// <summary>UTF-8 bytes of one header value.</summary>
    public const int MaxHeaderValueBytes = 8 * 1024;

    /// <summary>W3C trace context: a tracestate longer than this may be dropped by any tracer, so it is not stored.</summary>
    public const int MaxTracestateLength = 512;

    /// <summary>
    /// A deliver-at further ahead than this is a mistake (a unit error, a sentinel such as DateTimeOffset.MaxValue
    /// or 'infinity'), not a schedule: it is refused rather than holding its key back for ever.
    /// </summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(3650);

    /// <summary>The earliest deliver-at accepted; earlier values (DateTimeOffset.MinValue, '-infinity') are sentinels, not times.</summary>
    public static readonly DateTimeOffset MinDeliverAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Bytes the relay adds to every Kafka record beyond the message's key, payload and headers (its own
    /// outbox-* headers, traceparent and the record framing). The whole message, with this, must fit the
    /// deployment's Kafka message.max.bytes, which the silo records in outbox.settings at start-up.
    /// </summary>
    public const int RelayRecordOverheadBytes = 512;

    /// <summary>Header names the relay writes itself.</summary>
    public const string ReservedHeaderPrefix = "outbox-";
}
