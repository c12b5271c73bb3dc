using System.CommandLine;
using Outbox.Contracts.Admin;

namespace Outbox.Silo.Commands;

/// <summary><c>pause</c> / <c>resume</c>: stop and restart publishing of one partition (its rows wait meanwhile).</summary>
internal static class PauseCommand
{
    public static Command Create(bool pause)
    {
        var verb = pause ? "pause" : "resume";
        var db = CliDefaults.Database();
        var json = CliDefaults.Json();
        var partition = new Option<int>("--partition") { Description = "The partition", Required = true };
        var command = new Command(verb, pause
            ? "Stop publishing a partition after its batch in flight (its messages wait in the outbox)"
            : "Resume publishing a paused partition")
        {
            db, json, partition,
        };
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, verb, async (dataSource, output, token) =>
        {
            var p = parse.GetValue(partition);
            await new OutboxAdmin(dataSource).SetPausedAsync(p, pause, token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { partition = p, paused = pause }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"{verb}: partition {p} {(pause ? "paused" : "resumed")}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
