using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Publishing;

/// <summary>Turns an outbox row into the Kafka message the relay publishes: key, value and headers.</summary>
public static class OutboxMessageMapper
{
    public static Message<byte[], byte[]> ToKafka(OutboxRow row, int partition, string? traceparent, string? tracestate)
    {
        var headers = new Headers
        {
            { OutboxHeaders.EventId, Utf8(row.EventId.ToString()) },
            { OutboxHeaders.Partition, Utf8(partition.ToString(CultureInfo.InvariantCulture)) },
            { OutboxHeaders.Sequence, Utf8(row.Id.ToString(CultureInfo.InvariantCulture)) },
            { OutboxHeaders.CreatedAt, Utf8(row.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)) },
        };
        if (row.EventType is not null) headers.Add(OutboxHeaders.EventType, Utf8(row.EventType));
        if (traceparent is not null) headers.Add(OutboxHeaders.Traceparent, Utf8(traceparent));
        if (tracestate is not null) headers.Add(OutboxHeaders.Tracestate, Utf8(tracestate));
        if (row.HeadersJson is not null)
        {
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(row.HeadersJson)!)
                headers.Add(name, Utf8(value));
        }
        return new Message<byte[], byte[]>
        {
            Key = Utf8(row.Key),
            Value = row.Payload,
            Headers = headers,
            Timestamp = new Timestamp(row.CreatedAt.UtcDateTime, TimestampType.CreateTime),
        };
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}
