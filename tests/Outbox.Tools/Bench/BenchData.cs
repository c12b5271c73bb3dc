using System.Globalization;
using System.Text;

namespace Outbox.Tools.Bench;

/// <summary>The benchmark's events: JSON payloads of a fixed size over a fixed set of ordering keys.</summary>
internal static class BenchData
{
    public static string Key(int index) => "key-" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>A JSON object of exactly <paramref name="bytes"/> UTF-8 bytes (padded with a filler field).</summary>
    public static byte[] Payload(string key, long sequence, int bytes)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $$"""{"key":"{{key}}","seq":{{sequence}},"pad":""");
        var padding = Math.Max(0, bytes - head.Length - 2);
        return Encoding.UTF8.GetBytes(head + new string('x', padding) + "\"}");
    }

    /// <summary>The headers an application's JSON message carries (OutboxMessage.Json).</summary>
    public const string HeadersJson = """{"content-type":"application/json"}""";

    public const string EventType = "bench-event";
}
