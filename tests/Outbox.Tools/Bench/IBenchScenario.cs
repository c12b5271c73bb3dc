namespace Outbox.Tools.Bench;

/// <summary>
/// One benchmark scenario. It runs on the shared <see cref="BenchEnvironment"/>, may read the results of the
/// scenarios before it (the baseline compares itself with the backlog), and reports one machine-readable line.
/// </summary>
public interface IBenchScenario
{
    /// <summary>The <c>scenario=</c> value of its line, and its name on the command line.</summary>
    string Name { get; }

    Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken);
}

/// <summary>
/// A scenario's outcome: its <c>bench: scenario=... k=v ...</c> line (or lines), the rows of the human table, and
/// whether its correctness checks held (a benchmark that loses messages fails, whatever its speed).
/// </summary>
public abstract record BenchResult(string Scenario)
{
    public abstract string Line { get; }

    /// <summary>Every line it prints: <see cref="Line"/>, and the further lines of a scenario with several parts.</summary>
    public virtual IEnumerable<string> Lines => [Line];

    public abstract IEnumerable<(string Figure, string Value)> Figures { get; }

    public virtual bool Correct => true;
}
