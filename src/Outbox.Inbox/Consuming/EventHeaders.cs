using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Confluent.Kafka;

namespace Outbox.Inbox.Consuming;

/// <summary>
/// Reads an event from a Kafka message in either form the inbox accepts: the relay's outbox-* headers, or the
/// CloudEvents Kafka binary mode (ce_* headers) of the relay's CloudEvents mode or of any other producer. The names
/// are the relay's (tests check they equal Outbox.Grains' OutboxHeaders): the inbox does not reference the relay.
/// </summary>
internal static class EventHeaders
{
    public const string EventId = "outbox-event-id";
    public const string EventType = "outbox-event-type";
    public const string Partition = "outbox-partition";
    public const string Sequence = "outbox-sequence";
    public const string CreatedAt = "outbox-created-at";
    public const string Traceparent = "traceparent";
    public const string Tracestate = "tracestate";

    public const string CloudEventId = "ce_id";
    public const string CloudEventSource = "ce_source";
    public const string CloudEventType = "ce_type";
    public const string CloudEventTime = "ce_time";
    public const string CloudEventTraceparent = "ce_traceparent";

    // Name-based ids for messages that carry no GUID id: the same message always maps to the same id.
    private static readonly byte[] CloudEventNamespace = Encoding.UTF8.GetBytes("outbox-inbox/cloudevent\n");
    private static readonly byte[] KafkaRecordNamespace = Encoding.UTF8.GetBytes("outbox-inbox/kafka-record\n");

    public static InboxEvent Read(ConsumeResult<byte[], byte[]> result)
    {
        var message = result.Message;
        var headers = message.Headers is { Count: > 0 } h
            ? h.Select(x => new KeyValuePair<string, byte[]>(x.Key, x.GetValueBytes())).ToArray()
            : [];
        return new InboxEvent
        {
            EventId = ReadEventId(headers, result.Topic, result.Partition.Value, result.Offset.Value),
            EventType = Text(headers, EventType) ?? Text(headers, CloudEventType),
            Key = message.Key is null ? null : Encoding.UTF8.GetString(message.Key),
            Payload = message.Value ?? [],
            Sequence = Number(headers, Sequence),
            OutboxPartition = Number(headers, Partition) is { } p and >= 0 and <= int.MaxValue ? (int)p : null,
            CreatedAt = Number(headers, CreatedAt) is { } ms ? FromUnixMilliseconds(ms) : Time(headers, CloudEventTime),
            Headers = headers,
            Topic = result.Topic,
            Partition = result.Partition.Value,
            Offset = result.Offset.Value,
        };
    }

    /// <summary>The W3C trace context the producer sent: traceparent, or the CloudEvents tracing extension's.</summary>
    public static (string? Traceparent, string? Tracestate) TraceContext(InboxEvent inboxEvent) =>
        (inboxEvent.Header(Traceparent) ?? inboxEvent.Header(CloudEventTraceparent), inboxEvent.Header(Tracestate));

    /// <summary>
    /// outbox-event-id; else ce_id (a GUID as is, any other id made unique with its ce_source, as CloudEvents
    /// defines uniqueness); else the Kafka record's own coordinates, so a re-delivered record is still recognised.
    /// </summary>
    private static Guid ReadEventId(KeyValuePair<string, byte[]>[] headers, string topic, int partition, long offset)
    {
        if (Text(headers, EventId) is { } outboxId && Guid.TryParse(outboxId, out var id)) return id;
        if (Text(headers, CloudEventId) is { Length: > 0 } ceId)
        {
            return Guid.TryParse(ceId, out var ceGuid) ? ceGuid : NameBased(CloudEventNamespace, $"{Text(headers, CloudEventSource)}\n{ceId}");
        }
        return NameBased(KafkaRecordNamespace, string.Create(CultureInfo.InvariantCulture, $"{topic}\n{partition}\n{offset}"));
    }

    /// <summary>An RFC 9562 version-8 (custom, name-based) UUID from the SHA-256 of a namespace and a name.</summary>
    private static Guid NameBased(byte[] space, string name)
    {
        var hash = SHA256.HashData([.. space, .. Encoding.UTF8.GetBytes(name)]);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    private static byte[]? Last(KeyValuePair<string, byte[]>[] headers, string name)
    {
        for (var i = headers.Length - 1; i >= 0; i--)
        {
            if (string.Equals(headers[i].Key, name, StringComparison.Ordinal)) return headers[i].Value;
        }
        return null;
    }

    private static string? Text(KeyValuePair<string, byte[]>[] headers, string name) =>
        Last(headers, name) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    private static long? Number(KeyValuePair<string, byte[]>[] headers, string name) =>
        Last(headers, name) is { } bytes && Utf8Parser.TryParse(bytes, out long value, out var consumed) && consumed == bytes.Length ? value : null;

    private static DateTimeOffset? Time(KeyValuePair<string, byte[]>[] headers, string name) =>
        Text(headers, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    private static DateTimeOffset? FromUnixMilliseconds(long ms) =>
        ms is >= -62135596800000 and <= 253402300799999 ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
}
