namespace Outbox.Tools.Bench;

/// <summary>
/// The scenarios the benchmark knows, in the order they run; a new scenario is one more
/// <see cref="IBenchScenario"/> here.
/// </summary>
public static class BenchScenarios
{
    public const string Write = "write";
    public const string Backlog = "backlog";
    public const string Steady = "steady";
    public const string Baseline = "baseline";
    public const string Failover = "failover";
    public const string Churn = "churn";
    public const string Inbox = "inbox";
    public const string Scale = "scale";

    public static IReadOnlyList<string> Names { get; } = [Write, Backlog, Steady, Scale, Churn, Baseline, Failover, Inbox];

    /// <summary>Scenarios that run once per delivery mode (<see cref="BenchSettings.Modes"/>).</summary>
    public static bool ComparesModes(string name) => name is Backlog or Steady;

    public static IBenchScenario Create(string name) => name switch
    {
        Write => new WriteScenario(),
        Backlog => new BacklogScenario(),
        Steady => new SteadyScenario(),
        Baseline => new BaselineScenario(),
        Failover => new FailoverScenario(),
        Churn => new ChurnScenario(),
        Inbox => new InboxScenario(),
        Scale => new ScaleScenario(),
        _ => throw new ArgumentException($"Unknown scenario '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
