using System.Globalization;

namespace Outbox.Tools.Bench;

/// <summary>
/// The steady scenario's figures: one line for the relay at half the writers' maximum, one for where its latency goes,
/// and (at-least-once) one for the overload and one for the cost against the baseline poller.
/// </summary>
internal sealed record SteadyResult(string Mode, double WritersMaxTps, int Seconds, LoadFigures Steady, OverloadFigures? Overload, CostFigures? Cost)
    : BenchResult(BenchScenarios.Steady)
{
    public const double P50TargetMs = 8;
    public const double P99TargetMs = 40;

    public override bool Correct => Steady.Correct && (Overload is null || (Overload.Lost == 0 && Overload.OutOfOrder == 0))
                                    && (Cost is null || (Cost.Relay.Correct && Cost.Poller.Correct));

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=steady mode={Mode} writers_max_tps={WritersMaxTps:0} rate={Steady.Rate} reached={Steady.Reached:0} seconds={Seconds} p50_ms={Target.AtMost(Steady.Latency.P50Ms, P50TargetMs)} p95_ms={Steady.Latency.P95Ms:0.0} p99_ms={Target.AtMost(Steady.Latency.P99Ms, P99TargetMs)} max_ms={Steady.Latency.MaxMs:0.0} relay_db_cpu_pct={Steady.Cpu!.Database * 100:0.0} silo_cpu_pct={Steady.Cpu.ProcessTotal * 100:0.0} lost={Steady.Lost}");

    public override IEnumerable<string> Lines =>
    [
        Line,
        $"bench: scenario=steady part=stages mode={Mode} {Steady.Stages.Pairs}",
        .. Overload is { } o ? [OverloadLine(o)] : Array.Empty<string>(),
        .. Cost is { } c ? [c.Line] : Array.Empty<string>(),
    ];

    private static string OverloadLine(OverloadFigures o) => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=steady part=overload rate={o.Rate} reached={o.Reached:0} seconds={o.Seconds} backlog_mid={o.Middle.Rows} lag_mid_ms={o.Middle.LagMs:0} backlog_end={o.End.Rows} lag_end_ms={o.End.LagMs:0} drain_s={(o.Drain is { } d ? d.ToString("0.0", CultureInfo.InvariantCulture) : "none")} p50_ms={o.Latency.P50Ms:0.0} p99_ms={o.Latency.P99Ms:0.0} bounded={(o.Bounded ? "yes" : "no")} lost={o.Lost}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("mode", Mode),
        ("writers alone (no relay)", Invariant($"{WritersMaxTps:0} tx/s")),
        ("relay at half of it", Invariant($"{Steady.Rate} tx/s asked, {Steady.Reached:0} committed, {Seconds} s")),
        ("latency p50 / p95 / p99 / max (targets 8 / - / 40)", Invariant($"{Steady.Latency.P50Ms:0.0} / {Steady.Latency.P95Ms:0.0} / {Steady.Latency.P99Ms:0.0} / {Steady.Latency.MaxMs:0.0} ms")),
        ("commit>wake, wake>read, read>produced, produced>consumer (p50/p99 ms)",
            Invariant($"{Steady.Stages.CommitToWake}, {Steady.Stages.WakeToRead}, {Steady.Stages.ReadToProduced}, {Steady.Stages.ProducedToConsumer}")),
        ("relay CPU: database backends / silo", Invariant($"{Steady.Cpu!.Database * 100:0.0}% / {Steady.Cpu.ProcessTotal * 100:0.0}% of a core")),
        ("lost / duplicates / out of order", Invariant($"{Steady.Lost} / {Steady.Duplicates} / {Steady.OutOfOrder}")),
        .. Overload is { } o
            ? [("overload", Invariant($"{o.Rate} tx/s asked, {o.Reached:0} committed; lag {o.Middle.LagMs:0} ms mid-window, {o.End.LagMs:0} ms at the end; drained in {o.Drain:0.0} s; {(o.Bounded ? "bounded" : "NOT bounded")}"))]
            : Array.Empty<(string, string)>(),
        .. Cost is { } c
            ? [
                ("relay at " + c.Rate.ToString(CultureInfo.InvariantCulture) + " tx/s: CPU (db + silo), p50 / p99",
                    Invariant($"{c.Relay.Cpu!.Database * 100:0.0}% + {c.Relay.Cpu.ProcessTotal * 100:0.0}%, {c.Relay.Latency.P50Ms:0.0} / {c.Relay.Latency.P99Ms:0.0} ms")),
                ("poller at " + c.Rate.ToString(CultureInfo.InvariantCulture) + " tx/s: CPU (db + process), p50 / p99",
                    Invariant($"{c.Poller.Cpu!.Database * 100:0.0}% + {c.Poller.Cpu.ProcessTotal * 100:0.0}%, {c.Poller.Latency.P50Ms:0.0} / {c.Poller.Latency.P99Ms:0.0} ms")),
                ("relay / poller CPU (target <= 1)", Invariant($"{c.Ratio:0.00}")),
            ]
            : Array.Empty<(string, string)>(),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
