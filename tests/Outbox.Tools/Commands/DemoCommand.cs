using System.CommandLine;
using System.Globalization;
using Npgsql;
using Outbox.Silo.Commands;
using Outbox.Tools.Demo;

namespace Outbox.Tools.Commands;

/// <summary><c>demo</c>: the main job on embedded defaults, ending with one summary line.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var db = CliDefaults.Database();
        var events = Positive("--events", "Committed events to write", 20_000);
        var rate = Positive("--rate", "Business transactions per second (each enqueues one event)", 2_000);
        var writers = Positive("--writers", "Concurrent writer connections", 8);
        var keys = Positive("--keys", "Distinct orders (ordering keys)", 500);
        var partitions = Positive("--partitions", "Outbox partitions", 64);
        var silos = Positive("--silos", "Silo processes", 1);
        var chaos = new Option<bool>("--chaos") { Description = "Kill one silo (SIGKILL) mid-run and restart it; needs --silos 2 or more" };
        var verbose = new Option<bool>("--verbose") { Description = "Show the silos' logs" };
        var command = new Command("demo", "Run the relay end to end on local PostgreSQL and an embedded Kafka, and check what reached Kafka")
        {
            db, events, rate, writers, keys, partitions, silos, chaos, verbose,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(chaos) && ParsedOrNull(r.GetResult(silos)) is < 2) r.AddError("--chaos needs --silos 2 or more (a lone silo's partitions have nowhere to go).");
        });
        command.SetAction(async (parse, ct) =>
        {
            var settings = new DemoSettings(parse.GetValue(db)!, parse.GetValue(events), parse.GetValue(rate), parse.GetValue(writers),
                parse.GetValue(keys), parse.GetValue(partitions), parse.GetValue(silos), parse.GetValue(chaos), RollbackRatio: 0.1, parse.GetValue(verbose));
            try
            {
                var result = await new DemoRunner(settings, Console.Out).RunAsync(ct).ConfigureAwait(false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"demo: {result.Committed / result.Seconds:0} events/s end to end over {result.Seconds:0.0}s, p95_ms={result.Latency.P95Ms:0.0} max_ms={result.Latency.MaxMs:0.0}, rolled_back={result.RolledBack}"));
                if (result.FailoverSeconds is { } failover)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo: failover_s={failover:0.0}"));
                Console.WriteLine(result.SummaryLine);
                return result.Correct ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (NpgsqlException e)
            {
                await Console.Error.WriteLineAsync("demo: database unavailable: " + e.Message).ConfigureAwait(false);
                return ExitCodes.DatabaseUnavailable;
            }
        });
        return command;
    }

    private static Option<int> Positive(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (ParsedOrNull(r) is < 1) r.AddError($"{name} must be at least 1.");
        });
        return option;
    }

    /// <summary>The option's number, or null when absent or not a number (the parser reports that itself).</summary>
    private static int? ParsedOrNull(System.CommandLine.Parsing.OptionResult? result) =>
        result is { Tokens: [var token] } && int.TryParse(token.Value, CultureInfo.InvariantCulture, out var value) ? value : null;
}
