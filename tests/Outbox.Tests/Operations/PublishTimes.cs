using System.Diagnostics;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Operations;

/// <summary>
/// When each event reached an independent consumer, on the wall clock deliver-at is written in. (The Kafka record
/// timestamp is the event's creation time, not its publication, so it cannot tell.)
/// </summary>
public static class PublishTimes
{
    private static readonly DateTimeOffset AnchorUtc = DateTimeOffset.UtcNow;
    private static readonly long AnchorTicks = Stopwatch.GetTimestamp();

    /// <summary>Waits until the verifier saw every message; returns when each was first received.</summary>
    public static async Task<Dictionary<Guid, DateTimeOffset>> WaitAsync(DeliveryVerifier verifier, IReadOnlyCollection<Guid> eventIds, TimeSpan timeout)
    {
        var missing = await verifier.WaitForAsync(eventIds, timeout);
        Assert.True(missing == 0, $"{missing} of {eventIds.Count} events did not reach Kafka within {timeout}");
        return eventIds.ToDictionary(id => id, id =>
        {
            verifier.TryGetFirstSeen(id, out var seen);
            return AnchorUtc + Stopwatch.GetElapsedTime(AnchorTicks, seen);
        });
    }

    /// <summary>"p50=.. p99=.. max=.." of lateness in milliseconds.</summary>
    public static string Summarize(IReadOnlyCollection<double> latenessMs)
    {
        var sorted = latenessMs.Order().ToArray();
        double At(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return FormattableString.Invariant($"n={sorted.Length} p50={At(0.50):0}ms p99={At(0.99):0}ms max={sorted[^1]:0}ms min={sorted[0]:0}ms");
    }
}
