namespace Outbox.Contracts;

/// <summary>
/// Limits every enqueue path enforces (the C# API and the SQL function agree on them), so a message the relay
/// could never publish is refused in the application's transaction instead of becoming a poison message.
/// </summary>
public static class OutboxLimits
{
    /// <summary>Kafka's own limit on topic names.</summary>
    public const int MaxTopicLength = 249;

    /// <summary>Ordering keys are identifiers, not data.</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Just under Kafka's default 1 MiB message.max.bytes, leaving room for headers and framing.</summary>
    public const int MaxPayloadBytes = 1_000_000;

    /// <summary>Headers per message, the relay's own not counted.</summary>
    public const int MaxHeaderCount = 64;

    /// <summary>UTF-8 bytes of one header value.</summary>
    public const int MaxHeaderValueBytes = 8 * 1024;

    /// <summary>Header names the relay writes itself.</summary>
    public const string ReservedHeaderPrefix = "outbox-";
}
