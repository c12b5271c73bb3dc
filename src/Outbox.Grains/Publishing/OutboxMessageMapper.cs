using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Turns an outbox row into the Kafka message the relay publishes: key, value and headers. It runs once per
/// message on the hot path, so header values are formatted straight to UTF-8 and the rows' own headers JSON
/// (usually the same few headers on every row) is parsed once per distinct text, not once per row.
/// </summary>
internal static class OutboxMessageMapper
{
    [ThreadStatic]
    private static (string Json, (string Name, byte[] Value)[] Headers)? _lastParsed;

    private static readonly byte[]?[] PartitionValues = new byte[]?[4096];
    private static readonly byte[] SpecVersion = "1.0"u8.ToArray();

    public static Message<byte[], byte[]> ToKafka(OutboxRow row, int partition, string? traceparent, string? tracestate, HeaderMode? mode = null)
    {
        var headers = new Headers
        {
            { OutboxHeaders.EventId, Utf8(row.EventId) },
            { OutboxHeaders.Partition, PartitionValue(partition) },
            { OutboxHeaders.Sequence, Utf8(row.Id) },
            { OutboxHeaders.CreatedAt, Utf8(row.CreatedAt.ToUnixTimeMilliseconds()) },
        };
        if (row.EventType is not null) headers.Add(OutboxHeaders.EventType, Utf8(row.EventType));
        if (traceparent is not null) headers.Add(OutboxHeaders.Traceparent, Utf8(traceparent));
        if (tracestate is not null) headers.Add(OutboxHeaders.Tracestate, Utf8(tracestate));
        if (row.HeadersJson is not null)
        {
            // The byte arrays may be shared between messages: librdkafka copies header values when producing.
            foreach (var (name, value) in Parse(row.HeadersJson)) headers.Add(name, value);
        }
        if (mode?.CloudEventsSource is { } source)
        {
            // CloudEvents Kafka binding, binary content mode: the event's attributes as ce_* headers, the payload as is.
            // The row's own content-type header (OutboxMessage.Json sets application/json) is its datacontenttype.
            headers.Add("ce_specversion", SpecVersion);
            headers.Add("ce_id", Utf8(row.EventId));
            headers.Add("ce_source", Utf8(source));
            headers.Add("ce_type", Utf8(row.EventType ?? row.Topic));
            headers.Add("ce_time", Utf8(row.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)));
        }
        return new Message<byte[], byte[]>
        {
            Key = Utf8(row.Key),
            Value = row.Payload,
            Headers = headers,
            Timestamp = new Timestamp(row.CreatedAt.UtcDateTime, TimestampType.CreateTime),
        };
    }

    /// <summary>A JSON object of string values (as the enqueue API stores headers), as UTF-8 header values.</summary>
    private static (string Name, byte[] Value)[] Parse(string json)
    {
        if (_lastParsed is { } last && string.Equals(last.Json, json, StringComparison.Ordinal)) return last.Headers;
        var parsed = new List<(string, byte[])>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            parsed.Add((name, Utf8(reader.GetString()!)));
        }
        var headers = parsed.ToArray();
        _lastParsed = (json, headers);
        return headers;
    }

    private static byte[] PartitionValue(int partition)
    {
        if ((uint)partition >= (uint)PartitionValues.Length) return Utf8((long)partition);
        return PartitionValues[partition] ??= Utf8((long)partition);
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static byte[] Utf8(long value)
    {
        Span<byte> buffer = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, buffer, out var written);
        return buffer[..written].ToArray();
    }

    private static byte[] Utf8(Guid value)
    {
        var bytes = new byte[36];
        value.TryFormat(bytes, out _, "D");
        return bytes;
    }
}
