namespace Outbox.Inbox;

/// <summary>
/// One event as the handler receives it: what the relay published (outbox-* headers, or the CloudEvents
/// binary-mode ce_* headers of another producer) and where Kafka held it.
/// </summary>
public sealed record InboxEvent
{
    /// <summary>The event id: outbox-event-id, or ce_id; the inbox records it so each event is applied once.</summary>
    public required Guid EventId { get; init; }

    /// <summary>The event type (outbox-event-type or ce_type), when the producer gave one.</summary>
    public string? EventType { get; init; }

    /// <summary>The Kafka message key: the outbox ordering key. Null for a keyless message.</summary>
    public string? Key { get; init; }

    /// <summary>The payload, as published.</summary>
    public required ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>outbox-sequence: rises with insertion order within the key's outbox partition; null when absent.</summary>
    public long? Sequence { get; init; }

    /// <summary>outbox-partition: the outbox partition the event was relayed from; null when absent.</summary>
    public int? OutboxPartition { get; init; }

    /// <summary>When the event was written (outbox-created-at or ce_time), when the producer said.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>Every Kafka header, in order, with its raw value (the last value wins on a repeated name).</summary>
    public required IReadOnlyList<KeyValuePair<string, byte[]>> Headers { get; init; }

    /// <summary>The Kafka topic.</summary>
    public required string Topic { get; init; }

    /// <summary>The Kafka partition.</summary>
    public required int Partition { get; init; }

    /// <summary>The Kafka offset.</summary>
    public required long Offset { get; init; }

    /// <summary>The value of header <paramref name="name"/> as UTF-8 text (the last one when repeated), or null.</summary>
    public string? Header(string name)
    {
        for (var i = Headers.Count - 1; i >= 0; i--)
        {
            if (string.Equals(Headers[i].Key, name, StringComparison.Ordinal)) return System.Text.Encoding.UTF8.GetString(Headers[i].Value);
        }
        return null;
    }
}
