using System.Text;

namespace Outbox.Contracts;

/// <summary>Checks a message against Kafka's rules and <see cref="OutboxLimits"/> before anything is written.</summary>
public static class OutboxMessageValidator
{
    /// <summary>Throws <see cref="OutboxValidationException"/>, saying what is wrong, unless <paramref name="message"/> can be published.</summary>
    public static void Validate(OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ValidateTopic(message.Topic);
        if (string.IsNullOrEmpty(message.Key))
            throw new OutboxValidationException("Key must not be empty: it is the ordering key and the Kafka message key.");
        RefuseNul(message.Key, "Key");
        if (message.EventType is { } type) RefuseNul(type, "EventType");
        if (Encoding.UTF8.GetByteCount(message.Key) > OutboxLimits.MaxKeyBytes)
            throw new OutboxValidationException($"Key is longer than {OutboxLimits.MaxKeyBytes} bytes.");
        if (message.Payload.Length > OutboxLimits.MaxPayloadBytes)
            throw new OutboxValidationException(
                $"Payload is {message.Payload.Length} bytes; the limit is {OutboxLimits.MaxPayloadBytes}.");
        if (message.EventId == Guid.Empty)
            throw new OutboxValidationException("EventId must not be empty.");
        if (message.EventType is { } eventType && (eventType.Length == 0 || Encoding.UTF8.GetByteCount(eventType) > OutboxLimits.MaxEventTypeBytes))
            throw new OutboxValidationException($"EventType must be 1 to {OutboxLimits.MaxEventTypeBytes} bytes when set.");
        ValidateDeliverAt(message.DeliverAt, DateTimeOffset.UtcNow);
        ValidateHeaders(message.Headers);
    }

    /// <summary>A deliver-at is a time between <see cref="OutboxLimits.MinDeliverAt"/> and <see cref="OutboxLimits.MaxScheduleAhead"/> from now.</summary>
    public static void ValidateDeliverAt(DateTimeOffset? deliverAt, DateTimeOffset now)
    {
        if (deliverAt is not { } at) return;
        if (at < OutboxLimits.MinDeliverAt || at - now > OutboxLimits.MaxScheduleAhead)
            throw new OutboxValidationException(
                $"DeliverAt {at:O} is not a schedule: it must lie between {OutboxLimits.MinDeliverAt:yyyy-MM-dd} and {OutboxLimits.MaxScheduleAhead.TotalDays:0} days from now.");
    }

    /// <summary>Throws <see cref="OutboxValidationException"/> unless <paramref name="topic"/> is a valid Kafka topic name.</summary>
    public static void ValidateTopic(string? topic)
    {
        if (string.IsNullOrEmpty(topic) || topic.Length > OutboxLimits.MaxTopicLength || topic is "." or "..")
            throw new OutboxValidationException(
                $"Topic '{topic}' is not a valid Kafka topic name (1-{OutboxLimits.MaxTopicLength} characters, not '.' or '..').");
        foreach (var c in topic)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new OutboxValidationException(
                    $"Topic '{topic}' contains '{c}'; Kafka topic names allow only a-z A-Z 0-9 . _ -.");
        }
    }

    /// <summary>PostgreSQL's text cannot hold U+0000 (it refuses it with 22021, failing the writer's transaction).</summary>
    private static void RefuseNul(string value, string what)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
            throw new OutboxValidationException($"{what} contains a NUL character (U+0000), which PostgreSQL cannot store in text.");
    }

    private static void ValidateHeaders(IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null) return;
        if (headers.Count > OutboxLimits.MaxHeaderCount)
            throw new OutboxValidationException($"At most {OutboxLimits.MaxHeaderCount} headers are allowed.");
        foreach (var (name, value) in headers)
        {
            if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > OutboxLimits.MaxHeaderNameBytes
                || name.StartsWith(OutboxLimits.ReservedHeaderPrefix, StringComparison.Ordinal)
                || name is "traceparent" or "tracestate")
                throw new OutboxValidationException(
                    $"Header name '{name}' is empty, longer than {OutboxLimits.MaxHeaderNameBytes} bytes, or reserved (traceparent, tracestate and names starting with '{OutboxLimits.ReservedHeaderPrefix}' are written by the relay).");
            if (value is null)
                throw new OutboxValidationException($"Header '{name}' has a null value.");
            RefuseNul(name, "A header name");
            RefuseNul(value, $"Header '{name}'");
            if (Encoding.UTF8.GetByteCount(value) > OutboxLimits.MaxHeaderValueBytes)
                throw new OutboxValidationException($"Header '{name}' is longer than {OutboxLimits.MaxHeaderValueBytes} bytes.");
        }
    }
}
