namespace Outbox.Silo.Bench;

/// <summary>
/// The scenarios the benchmark knows, in the order they run. This is the extension point: the cluster work
/// adds its failover scenario (<c>scenario=failover silos=3 kill=1 resume_s=F duplicates=D lost=0
/// out_of_order=0</c>) as one more <see cref="IBenchScenario"/> here, with its own silo processes.
/// </summary>
public static class BenchScenarios
{
    public const string Backlog = "backlog";
    public const string Steady = "steady";
    public const string Baseline = "baseline";

    public static IReadOnlyList<string> Names { get; } = [Backlog, Steady, Baseline];

    public static IBenchScenario Create(string name) => name switch
    {
        Backlog => new BacklogScenario(),
        Steady => new SteadyScenario(),
        Baseline => new BaselineScenario(),
        _ => throw new ArgumentException($"Unknown scenario '{name}'; known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
