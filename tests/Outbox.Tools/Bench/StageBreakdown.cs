using System.Globalization;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// Where commit-to-receipt latency goes, from the relay's <c>outbox-stages</c> header (one clock: the bench and the
/// silos run on one machine): commit (the writer's COMMIT returned) to wake (the reader's statement that returned the
/// row was sent), wake to read (it answered), read to produced (handed to the producer), produced to consumer (the
/// broker's acknowledgement, the consumer's fetch). Commit to wake may be slightly negative: a commit is visible to
/// other sessions a moment before its answer reaches the writer.
/// </summary>
internal sealed record StageBreakdown(int Samples, Stage CommitToWake, Stage WakeToRead, Stage ReadToProduced, Stage ProducedToConsumer)
{
    public static StageBreakdown Of(IReadOnlyDictionary<Guid, long> committedMicros, DeliveryVerifier verifier)
    {
        var stages = new List<double>[4];
        for (var i = 0; i < stages.Length; i++) stages[i] = new List<double>(committedMicros.Count);
        foreach (var (id, commit) in committedMicros)
        {
            if (!verifier.TryGetStages(id, out var s)) continue;
            stages[0].Add((s.WakeMicros - commit) / 1000.0);
            stages[1].Add((s.ReadMicros - s.WakeMicros) / 1000.0);
            stages[2].Add((s.ProducedMicros - s.ReadMicros) / 1000.0);
            stages[3].Add((s.ReceivedMicros - s.ProducedMicros) / 1000.0);
        }
        return new StageBreakdown(stages[0].Count, Stage.Of(stages[0]), Stage.Of(stages[1]), Stage.Of(stages[2]), Stage.Of(stages[3]));
    }

    /// <summary>The key=value pairs of the benchmark line.</summary>
    public string Pairs => string.Create(CultureInfo.InvariantCulture,
        $"commit_wake_ms={CommitToWake} wake_read_ms={WakeToRead} read_produced_ms={ReadToProduced} produced_consumer_ms={ProducedToConsumer} stamped={Samples}");
}

/// <summary>A stage's p50 and p99 in milliseconds.</summary>
internal readonly record struct Stage(double P50, double P99)
{
    public static Stage Of(List<double> samples)
    {
        if (samples.Count == 0) return new Stage(double.NaN, double.NaN);
        samples.Sort();
        return new Stage(At(samples, 0.50), At(samples, 0.99));
    }

    private static double At(List<double> sorted, double quantile) =>
        sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(quantile * sorted.Count) - 1))];

    /// <summary>"p50/p99", as the line prints it.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{P50:0.0}/{P99:0.0}");
}
