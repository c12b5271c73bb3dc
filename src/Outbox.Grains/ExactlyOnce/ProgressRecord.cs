using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// What one Kafka transaction of a partition published: the ownership epoch that committed it and the ids of
/// its rows. Written in the same transaction as the rows, keyed by partition on the compacted progress topic, so
/// the last committed record of a partition names exactly the rows Kafka has that the outbox may still hold.
/// The value is JSON, readable with any Kafka tool: <c>{"epoch":7,"ids":[[101,200],[205,205]]}</c>, the ids as
/// inclusive ranges (a batch's ids are mostly consecutive, so a 1,000-row batch is usually one pair).
/// </summary>
internal sealed record ProgressRecord(long Epoch, IReadOnlyList<long> Ids)
{
    public static byte[] Key(int partition) => Encoding.UTF8.GetBytes(partition.ToString(CultureInfo.InvariantCulture));

    /// <summary>The ids must be ascending, as a batch's are.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("epoch", Epoch);
            json.WriteStartArray("ids");
            for (var i = 0; i < Ids.Count;)
            {
                var first = Ids[i];
                var last = first;
                while (++i < Ids.Count && Ids[i] == last + 1) last = Ids[i];
                json.WriteStartArray();
                json.WriteNumberValue(first);
                json.WriteNumberValue(last);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a record written by <see cref="Encode"/>; anything else is an error naming what is wrong.</summary>
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
            return new ProgressRecord(epoch, ids);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException
                                      or FormatException or InvalidDataException)
        {
            throw new InvalidDataException(
                "A progress record is not in the relay's format ({\"epoch\":N,\"ids\":[[first,last],...]}); was something else written to the progress topic?", e);
        }
    }
}
