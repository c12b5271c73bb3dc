using System.Globalization;
using Outbox.Tools.Demo;

namespace Outbox.Tools.Bench;

/// <summary>
/// Failover under load: three Orleans silo processes share the partitions while writers commit business
/// transactions; one silo is SIGKILLed a third of the way in. Reports how long until every
/// partition it owned was taken over (new owner, new epoch), and what an independent consumer saw. It is the
/// demo's chaos run (its own database and embedded Kafka), reported as a benchmark line.
/// </summary>
internal sealed class FailoverScenario : IBenchScenario
{
    private const int Silos = 3;

    public string Name => BenchScenarios.Failover;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var demo = new DemoSettings(settings.ConnectionString, Events: settings.FailoverEvents, Rate: settings.FailoverRate, Writers: 8,
            Keys: 500, Partitions: settings.Partitions, Silos: Silos, Chaos: true, RollbackRatio: 0.1, Verbose: settings.Verbose, Database: settings.Database + "_failover");
        var result = await new DemoRunner(demo, TextWriter.Null).RunAsync(cancellationToken).ConfigureAwait(false);
        return new FailoverResult(Silos, result.FailoverSeconds ?? double.NaN, result.Duplicates, result.Lost, result.OutOfOrder,
            result.RolledBackPublished, result.Committed);
    }
}

internal sealed record FailoverResult(int Silos, double ResumeSeconds, long Duplicates, int Lost, long OutOfOrder, int RolledBackPublished, int Committed)
    : BenchResult(BenchScenarios.Failover)
{
    public override bool Correct => Lost == 0 && OutOfOrder == 0 && RolledBackPublished == 0 && !double.IsNaN(ResumeSeconds);

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=failover silos={Silos} kill=1 resume_s={ResumeSeconds:0.0} duplicates={Duplicates} lost={Lost} out_of_order={OutOfOrder}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("silos / killed", string.Create(CultureInfo.InvariantCulture, $"{Silos} / 1 (SIGKILL)")),
        ("partitions resumed elsewhere after", string.Create(CultureInfo.InvariantCulture, $"{ResumeSeconds:0.0} s")),
        ("committed / lost / duplicates / out of order", string.Create(CultureInfo.InvariantCulture, $"{Committed} / {Lost} / {Duplicates} / {OutOfOrder}")),
    ];
}
