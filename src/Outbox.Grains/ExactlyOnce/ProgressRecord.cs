using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

using Outbox.Grains.Storage;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// What one Kafka transaction of a partition published: the ownership epoch that committed it and its rows. Written in
/// the same transaction as the rows, keyed by partition on the compacted progress topic, so the last committed record of
/// a partition names exactly the rows Kafka has that the outbox may still hold. The value is JSON, readable with any
/// Kafka tool: <c>{"epoch":7,"ids":[[101,200],[205,205]],"events":"base64"}</c>, the ids as inclusive ranges (a batch's
/// ids are mostly consecutive, so a 1,000-row batch is usually one pair) and the rows' event ids, 16 bytes each in id
/// order: after the database went back in time an id may name another, unpublished message, which reconciliation must
/// leave alone. Records of earlier versions have no event ids and match by id.
/// </summary>
internal sealed record ProgressRecord(long Epoch, IReadOnlyList<RowRef> Rows)
{
    public static byte[] Key(int partition) => Encoding.UTF8.GetBytes(partition.ToString(CultureInfo.InvariantCulture));

    /// <summary>The rows must be in ascending id order, as a batch's are, and carry their event ids.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("epoch", Epoch);
            json.WriteStartArray("ids");
            for (var i = 0; i < Rows.Count;)
            {
                var first = Rows[i].Id;
                var last = first;
                while (++i < Rows.Count && Rows[i].Id == last + 1) last = Rows[i].Id;
                json.WriteStartArray();
                json.WriteNumberValue(first);
                json.WriteNumberValue(last);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            var events = new byte[16 * Rows.Count];
            for (var i = 0; i < Rows.Count; i++)
            {
                var eventId = Rows[i].EventId ?? throw new InvalidOperationException("A progress record names rows by id and event id.");
                eventId.TryWriteBytes(events.AsSpan(16 * i, 16));
            }
            json.WriteBase64String("events", events);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a record written by <see cref="Encode"/> (or an earlier version); anything else is an error naming what is wrong.</summary>
    public static ProgressRecord Decode(ReadOnlySpan<byte> value)
    {
        try
        {
            using var document = JsonDocument.Parse(value.ToArray());
            var root = document.RootElement;
            var epoch = root.GetProperty("epoch").GetInt64();
            var ids = new List<long>();
            foreach (var range in root.GetProperty("ids").EnumerateArray())
            {
                var first = range[0].GetInt64();
                var last = range[1].GetInt64();
                if (last < first || last - first > 1_000_000) throw new InvalidDataException($"bad id range [{first},{last}]");
                for (var id = first; id <= last; id++) ids.Add(id);
            }
            var events = root.TryGetProperty("events", out var encoded) ? encoded.GetBytesFromBase64() : null;
            if (events is not null && events.Length != 16 * ids.Count)
                throw new InvalidDataException($"{events.Length / 16} event ids for {ids.Count} rows");
            var rows = new RowRef[ids.Count];
            for (var i = 0; i < rows.Length; i++)
                rows[i] = new RowRef(ids[i], events is null ? null : new Guid(events.AsSpan(16 * i, 16)));
            return new ProgressRecord(epoch, rows);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException
                                      or FormatException or InvalidDataException)
        {
            throw new InvalidDataException(
                "A progress record is not in the relay's format ({\"epoch\":N,\"ids\":[[first,last],...],\"events\":\"base64\"}); was something else written to the progress topic?", e);
        }
    }
}
