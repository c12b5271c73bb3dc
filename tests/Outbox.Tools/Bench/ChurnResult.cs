using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>The churn scenario's figures: one line per variant of the transaction held open.</summary>
internal sealed record ChurnResult(int Rate, int Seconds, IReadOnlyList<ChurnFigures> Variants) : BenchResult(BenchScenarios.Churn)
{
    /// <summary>Last window over first, of database time per message and of p99: what "does not grow with the open transaction's age" allows.</summary>
    public const double GrowthTarget = 1.5;

    public override bool Correct => Variants.All(v => v.Lost == 0 && v.OutOfOrder == 0);

    public override string Line => Describe(Variants[0]);

    public override IEnumerable<string> Lines => Variants.Select(Describe);

    private string Describe(ChurnFigures v) => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=churn variant={v.Variant} rate={Rate} seconds={Seconds} reached={v.AchievedRate:0} p50_ms={v.Latency.P50Ms:0.0} p99_ms={v.Latency.P99Ms:0.0} p99_first_ms={v.First.P99Ms:0.0} p99_last_ms={v.Last.P99Ms:0.0} p99_growth={Target.AtMost(v.P99Growth, GrowthTarget, "0.00")} db_ms_per_1k_first={v.First.DbMsPer1k:0.0} db_ms_per_1k={v.Last.DbMsPer1k:0.0} growth={Target.AtMost(v.Growth, GrowthTarget, "0.00")} relay_db_ms_per_1k_first={v.First.RelayDbMsPer1k:0.0} relay_db_ms_per_1k={v.Last.RelayDbMsPer1k:0.0} relay_growth={Target.AtMost(v.RelayGrowth, GrowthTarget, "0.00")} lost={v.Lost}");

    public override IEnumerable<(string Figure, string Value)> Figures => Variants.SelectMany(v => new[]
    {
        ($"{v.Variant}: rate, transaction held open", Invariant($"{v.AchievedRate:0} of {Rate} tx/s for {Seconds} s")),
        ($"{v.Variant}: latency p50 / p99; p99 first / last window", Invariant($"{v.Latency.P50Ms:0.0} / {v.Latency.P99Ms:0.0} ms; {v.First.P99Ms:0.0} / {v.Last.P99Ms:0.0} ms")),
        ($"{v.Variant}: db ms per 1k msgs, first / last (growth target <= 1.5)", Invariant($"{v.First.DbMsPer1k:0.0} / {v.Last.DbMsPer1k:0.0} ({v.Growth:0.00})")),
        ($"{v.Variant}: relay backends' CPU ms per 1k msgs, first / last", Invariant($"{v.First.RelayDbMsPer1k:0.0} / {v.Last.RelayDbMsPer1k:0.0} ({v.RelayGrowth:0.00})")),
        ($"{v.Variant}: lost / out of order", Invariant($"{v.Lost} / {v.OutOfOrder}")),
    });

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
