using System.Diagnostics;

namespace Outbox.Tools.Verification;

/// <summary>Commit-to-receipt latency percentiles of the events an independent consumer saw.</summary>
public sealed record LatencySummary(double P50Ms, double P95Ms, double P99Ms, double MaxMs, int Samples)
{
    public static LatencySummary Of(IReadOnlyDictionary<Guid, long> committed, DeliveryVerifier verifier)
    {
        var samples = new List<double>(committed.Count);
        foreach (var (id, commitTimestamp) in committed)
        {
            if (verifier.TryGetFirstSeen(id, out var seen))
                samples.Add(Math.Max(0, (seen - commitTimestamp) * 1000.0 / Stopwatch.Frequency));
        }
        if (samples.Count == 0) return new LatencySummary(0, 0, 0, 0, 0);
        samples.Sort();
        return new LatencySummary(At(samples, 0.50), At(samples, 0.95), At(samples, 0.99), samples[^1], samples.Count);
    }

    private static double At(List<double> sorted, double quantile) =>
        sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];
}
