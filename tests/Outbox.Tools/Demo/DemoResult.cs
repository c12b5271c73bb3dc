using System.Globalization;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Demo;

/// <summary>What the demo's independent consumer saw, and the one-line summary it prints.</summary>
public sealed record DemoResult(
    int Committed,
    long Published,
    int Lost,
    long Duplicates,
    long OutOfOrder,
    int RolledBackPublished,
    int RolledBack,
    LatencySummary Latency,
    double Seconds,
    double? FailoverSeconds,
    DemoConsumerResult Consumer)
{
    /// <summary>The relay's guarantees, and the consumer's: every committed event applied once, in each key's order.</summary>
    public bool Correct => Lost == 0 && OutOfOrder == 0 && RolledBackPublished == 0 && Consumer.Ledger.ExactlyOnceInOrder && Consumer.Ledger.Applied == Committed;

    public string SummaryLine => string.Create(CultureInfo.InvariantCulture,
        $"demo: committed={Committed} published={Published} lost={Lost} duplicates={Duplicates} out_of_order={OutOfOrder} rolled_back_published={RolledBackPublished} {Consumer.Summary} p50_ms={Latency.P50Ms:0.0} p99_ms={Latency.P99Ms:0.0}");
}
