using System.CommandLine;
using Npgsql;
using Outbox.Grains.Relay;
using Outbox.Silo.Commands;
using Outbox.Tools.Bench;

namespace Outbox.Tools.Commands;

/// <summary><c>bench</c>: throughput, latency and memory of the relay against a database ceiling and a naive baseline.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var defaults = new BenchSettings { ConnectionString = CliDefaults.ConnectionString };
        var db = CliDefaults.Database();
        var quick = new Option<bool>("--quick") { Description = "CI size: 20,000 messages, windows of a few seconds (checks correctness; figures mean little)" };
        var scenarios = new Option<string[]>("--scenarios")
        {
            Description = $"Scenarios to run, in order, separated by spaces or commas ({string.Join(", ", BenchScenarios.Names)})",
            DefaultValueFactory = _ => [.. BenchScenarios.Names],
            AllowMultipleArgumentsPerToken = true,
        };
        var messages = Positive("--messages", "Backlog rows to preload and drain", defaults.Messages);
        var rate = new Option<int?>("--rate") { Description = "Steady scenario: business transactions per second (default: half of what the writers commit alone, measured first)" };
        rate.Validators.Add(r =>
        {
            if (r.GetValue(rate) < 1) r.AddError("--rate must be at least 1.");
        });
        var steadySeconds = Positive("--steady-seconds", "Steady scenario: seconds of the measured window at the steady rate", defaults.SteadySeconds);
        var writersSeconds = Positive("--writers-seconds", "Steady scenario: seconds the writers run alone to measure their maximum", defaults.WritersSeconds);
        var overloadSeconds = Positive("--overload-seconds", "Steady scenario: seconds of the overload at twice the steady rate", defaults.OverloadSeconds);
        var costRate = Positive("--cost-rate", "Steady scenario: business transactions per second of the relay-versus-poller cost windows", defaults.CostRate);
        var costSeconds = Positive("--cost-seconds", "Steady scenario: seconds of each cost window (relay, then poller)", defaults.CostSeconds);
        var scalePartitions = Positive("--scale-partitions", "Scale scenario: partitions of the large cluster (the small one has --partitions)", defaults.ScalePartitions);
        var scaleSilos = Positive("--scale-silos", "Scale scenario: silo processes of each cluster", defaults.ScaleSilos);
        var scaleRate = Positive("--scale-rate", "Scale scenario: business transactions per second of the loaded window", defaults.ScaleRate);
        var scaleSeconds = Positive("--scale-seconds", "Scale scenario: seconds of each window (idle, loaded)", defaults.ScaleSeconds);
        var baselineSeconds = Positive("--baseline-seconds", "Baseline scenario: seconds the naive relay runs", defaults.BaselineSeconds);
        var failoverEvents = Positive("--failover-events", "Failover scenario: events committed while one of three silos is killed", defaults.FailoverEvents);
        var failoverRate = Positive("--failover-rate", "Failover scenario: business transactions per second", defaults.FailoverRate);
        var writers = Positive("--writers", "Steady and churn scenarios: concurrent writer connections", defaults.Writers);
        var writeSeconds = Positive("--write-seconds", "Write scenario: seconds of alternating plain-insert and outbox.enqueue phases", defaults.WriteSeconds);
        var writeClients = Positive("--write-clients", "Write scenario: concurrent clients", defaults.WriteClients);
        var churnRate = Positive("--churn-rate", "Churn scenario: business transactions per second", defaults.ChurnRate);
        var churnSeconds = Positive("--churn-seconds", "Churn scenario: seconds of writing with a transaction held open", defaults.ChurnSeconds);
        var keys = Positive("--keys", "Distinct ordering keys", defaults.Keys);
        var payload = Positive("--payload-bytes", "Size of each JSON payload", defaults.PayloadBytes);
        var partitions = Positive("--partitions", "Outbox partitions", defaults.Partitions);
        var batch = Positive("--batch-size", "Relay:BatchSize of the silo and the ceiling drain", defaults.BatchSize);
        var pool = Positive("--pool-size", "Outbox:MaxPoolSize of the silo and the ceiling drain", defaults.PoolSize);
        var database = new Option<string>("--database") { Description = "Database to (re)create for the run", DefaultValueFactory = _ => defaults.Database };
        var silo = new Option<string[]>("--silo")
        {
            Description = "Extra silo configuration Section:Key=value (repeatable), e.g. --silo Kafka:LingerMs=5",
            DefaultValueFactory = _ => [],
        };
        var modes = new Option<DeliveryMode[]>("--modes")
        {
            Description = "Delivery modes the backlog and steady scenarios run in, each in turn (AtLeastOnce, ExactlyOnce)",
            DefaultValueFactory = _ => [.. defaults.Modes],
            AllowMultipleArgumentsPerToken = true,
        };
        var verbose = new Option<bool>("--verbose") { Description = "Show the silo's logs" };
        var command = new Command("bench", "Benchmark the relay on local PostgreSQL and an embedded Kafka: write cost, backlog throughput and memory, steady latency and cost, scale, churn, naive baseline, failover")
        {
            db, quick, scenarios, messages, rate, steadySeconds, writersSeconds, overloadSeconds, costRate, costSeconds, scalePartitions, scaleSilos, scaleRate, scaleSeconds, baselineSeconds, failoverEvents, failoverRate, writers, writeSeconds, writeClients, churnRate, churnSeconds, keys, payload, partitions, batch, pool, database, silo, modes, verbose,
        };
        command.Validators.Add(r =>
        {
            foreach (var name in Names(r.GetValue(scenarios)))
                if (!BenchScenarios.Names.Contains(name)) r.AddError($"Unknown scenario '{name}'; known: {string.Join(", ", BenchScenarios.Names)}.");
            foreach (var setting in r.GetValue(silo) ?? [])
                if (!setting.Contains('=', StringComparison.Ordinal)) r.AddError($"--silo expects Section:Key=value, got '{setting}'.");
        });
        command.SetAction(async (parse, ct) =>
        {
            var settings = new BenchSettings
            {
                ConnectionString = parse.GetValue(db)!,
                Database = parse.GetValue(database)!,
                Scenarios = Names(parse.GetValue(scenarios)),
                Messages = parse.GetValue(messages),
                Rate = parse.GetValue(rate),
                SteadySeconds = parse.GetValue(steadySeconds),
                WritersSeconds = parse.GetValue(writersSeconds),
                OverloadSeconds = parse.GetValue(overloadSeconds),
                CostRate = parse.GetValue(costRate),
                CostSeconds = parse.GetValue(costSeconds),
                ScalePartitions = parse.GetValue(scalePartitions),
                ScaleSilos = parse.GetValue(scaleSilos),
                ScaleRate = parse.GetValue(scaleRate),
                ScaleSeconds = parse.GetValue(scaleSeconds),
                BaselineSeconds = parse.GetValue(baselineSeconds),
                FailoverEvents = parse.GetValue(failoverEvents),
                FailoverRate = parse.GetValue(failoverRate),
                Writers = parse.GetValue(writers),
                WriteSeconds = parse.GetValue(writeSeconds),
                WriteClients = parse.GetValue(writeClients),
                ChurnRate = parse.GetValue(churnRate),
                ChurnSeconds = parse.GetValue(churnSeconds),
                Keys = parse.GetValue(keys),
                PayloadBytes = parse.GetValue(payload),
                Partitions = parse.GetValue(partitions),
                BatchSize = parse.GetValue(batch),
                PoolSize = parse.GetValue(pool),
                SiloConfiguration = parse.GetValue(silo)!.Select(s => s.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]),
                Modes = parse.GetValue(modes)!.Distinct().ToArray(),
                Verbose = parse.GetValue(verbose),
            };
            if (parse.GetValue(quick)) settings = settings.AsQuick();
            try
            {
                var results = await new BenchRunner(settings, Console.Out).RunAsync(ct).ConfigureAwait(false);
                return results.All(r => r.Correct) ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (NpgsqlException e)
            {
                await Console.Error.WriteLineAsync("bench: database unavailable: " + e.Message).ConfigureAwait(false);
                return ExitCodes.DatabaseUnavailable;
            }
        });
        return command;
    }

    private static string[] Names(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();

    private static Option<int> Positive(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(r =>
        {
            if (r.GetValue(option) < 1) r.AddError($"{name} must be at least 1.");
        });
        return option;
    }
}
