using System.CommandLine;
using Outbox.Contracts.Admin;

namespace Outbox.Silo.Commands;

/// <summary><c>replay</c>: publish audited messages (outbox.published) again, with their original event ids.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var db = CliDefaults.Database();
        var json = CliDefaults.Json();
        var from = new Option<long>("--from") { Description = "First message id of the range", Required = true };
        var to = new Option<long>("--to") { Description = "Last message id of the range (inclusive)", Required = true };
        var partition = new Option<int?>("--partition") { Description = "Only this partition" };
        var command = new Command("replay",
            $"Publish audited messages of an id range again, same event ids (needs Relay:AuditRetention; at most {AdminLimits.MaxReplayRange} ids)")
        {
            db, json, from, to, partition,
        };
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "replay", async (dataSource, output, token) =>
        {
            var range = new ReplayRange(parse.GetValue(from), parse.GetValue(to), parse.GetValue(partition));
            var replayed = await new OutboxAdmin(dataSource).ReplayAsync(range, token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { replayed }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"replay: {replayed} message(s) queued for publishing again").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}
