using Outbox.Grains.Relay;
using Spectre.Console;

namespace Outbox.Tools.Bench;

/// <summary>
/// Runs the chosen scenarios in order on one environment, then prints a table of every figure and one
/// machine-readable <c>bench: scenario=...</c> line per scenario.
/// </summary>
public sealed class BenchRunner(BenchSettings settings, TextWriter output)
{
    public async Task<IReadOnlyList<BenchResult>> RunAsync(CancellationToken cancellationToken)
    {
        var results = new List<BenchResult>();
        var environment = await BenchEnvironment.CreateAsync(settings, output, cancellationToken).ConfigureAwait(false);
        await using (environment.ConfigureAwait(false))
        {
            output.WriteLine($"bench: database {settings.Database}, embedded Kafka at {environment.BootstrapServers}, {settings.Partitions} partitions, " +
                             $"batch {settings.BatchSize}, pool {settings.PoolSize}, scenarios {string.Join(",", settings.Scenarios)}; machine {BenchMachine.Describe()}");
            foreach (var name in settings.Scenarios)
            {
                foreach (var mode in BenchScenarios.ComparesModes(name) ? settings.Modes : [DeliveryMode.AtLeastOnce])
                {
                    output.WriteLine($"bench: running {name} ({BenchEnvironment.ModeName(mode)}) at {BenchMachine.Load()}");
                    await environment.UseModeAsync(mode).ConfigureAwait(false);
                    var result = await BenchScenarios.Create(name).RunAsync(environment, results, cancellationToken).ConfigureAwait(false);
                    foreach (var line in result.Lines) output.WriteLine(line);
                    output.WriteLine($"bench: finished {name} ({BenchEnvironment.ModeName(mode)}) at {BenchMachine.Load()}");
                    results.Add(result);
                }
            }
        }
        PrintTable(results);
        foreach (var line in results.SelectMany(r => r.Lines)) output.WriteLine(line);
        return results;
    }

    private void PrintTable(IReadOnlyList<BenchResult> results)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        var table = new Table().Border(TableBorder.Simple).AddColumns("scenario", "figure", "value", "checks");
        foreach (var result in results)
        {
            foreach (var (figure, value) in result.Figures)
                table.AddRow(Markup.Escape(result.Scenario), Markup.Escape(figure), Markup.Escape(value), result.Correct ? "ok" : "FAILED");
        }
        console.Write(table);
    }
}
