using System.Globalization;
using System.Text;

namespace Outbox.Tools.Verification;

/// <summary>
/// The relay's <c>outbox-stages</c> header of one event (Relay:StageTimestamps: when the reader's statement that returned
/// the row was sent and answered, when the row was handed to the producer) and when the consumer received it, all in
/// Unix microseconds of this machine's clock.
/// </summary>
public readonly record struct StageTimes(long WakeMicros, long ReadMicros, long ProducedMicros, long ReceivedMicros)
{
    /// <summary>Unix microseconds now, as the relay stamps them.</summary>
    public static long NowMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>Parses <c>wake=..;read=..;produced=..</c>; false when a part is missing or not a number.</summary>
    public static bool TryParse(byte[] header, long receivedMicros, out StageTimes stages)
    {
        long? wake = null, read = null, produced = null;
        foreach (var part in Encoding.UTF8.GetString(header).Split(';'))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || !long.TryParse(part.AsSpan(equals + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) continue;
            switch (part[..equals])
            {
                case "wake": wake = value; break;
                case "read": read = value; break;
                case "produced": produced = value; break;
            }
        }
        stages = wake is { } w && read is { } r && produced is { } p ? new StageTimes(w, r, p, receivedMicros) : default;
        return wake is not null && read is not null && produced is not null;
    }
}
