using System.CommandLine;
using Npgsql;
using Outbox.Silo.Commands;
using Outbox.Tools.Bench;

namespace Outbox.Tools.Commands;

/// <summary>
/// <c>bench-poller</c> (hidden): the steady scenario's baseline polling loop (<see cref="BaselinePoller"/>), run by the
/// bench as a child process so that its CPU time is its own. Prints <see cref="ReadyLine"/> once it polls.
/// </summary>
internal static class BenchPollerCommand
{
    public const string Name = "bench-poller";

    public const string ReadyLine = "bench-poller: polling";

    public static Command Create()
    {
        var db = CliDefaults.Database();
        var bootstrap = new Option<string>("--bootstrap-servers") { Description = "Kafka bootstrap servers", Required = true };
        var interval = new Option<int>("--interval-ms") { Description = "Milliseconds between polls", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Rows read per poll", DefaultValueFactory = _ => 1000 };
        var command = new Command(Name, "The bench's baseline polling loop (started by the bench)") { db, bootstrap, interval, batch };
        command.Hidden = true;
        command.SetAction(async (parse, ct) =>
        {
            var connectionString = new NpgsqlConnectionStringBuilder(parse.GetValue(db)) { ApplicationName = BaselinePoller.ApplicationName }.ConnectionString;
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var poller = new BaselinePoller(dataSource, parse.GetValue(bootstrap)!, TimeSpan.FromMilliseconds(parse.GetValue(interval)), parse.GetValue(batch));
            try
            {
                await poller.RunAsync(() => Console.Out.WriteLine(ReadyLine), ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // SIGTERM from the bench: the loop ends here by design.
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
