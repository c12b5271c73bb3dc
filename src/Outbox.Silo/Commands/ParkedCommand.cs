using System.CommandLine;
using System.Globalization;
using Npgsql;
using Outbox.Contracts;
using Outbox.Contracts.Admin;
using Outbox.Grains;
using Spectre.Console;

namespace Outbox.Silo.Commands;

/// <summary><c>parked list|retry|discard</c>: the poison messages that hold their keys back, and what to do with them.</summary>
internal static class ParkedCommand
{
    public static Command Create() => new("parked", "List, retry or discard parked (poison) messages") { List(), Retry(), Discard() };

    private static Command List()
    {
        var db = CliDefaults.Database();
        var json = CliDefaults.Json();
        var partition = new Option<int?>("--partition") { Description = "Only this partition" };
        var key = new Option<string?>("--key") { Description = "Only this ordering key" };
        var limit = new Option<int>("--limit") { Description = $"At most this many (1-{AdminLimits.MaxListLimit})", DefaultValueFactory = _ => 100 };
        var command = new Command("list", "List parked messages: partition, key, attempts, when and why") { db, json, partition, key, limit };
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "parked list", async (dataSource, output, token) =>
        {
            var parked = await new OutboxAdmin(dataSource).ListParkedAsync(parse.GetValue(partition), parse.GetValue(key), parse.GetValue(limit), token)
                .ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(parked).ConfigureAwait(false);
            else Render(output.Console, parked);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Retry()
    {
        var (db, json, partition, key, id) = SelectionOptions();
        var command = new Command("retry", "Publish parked messages again (e.g. after raising a limit or granting a topic)") { db, json, partition, key, id };
        AddSelectionValidator(command, partition, key, id);
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "parked retry", async (dataSource, output, token) =>
        {
            var selection = await SelectAsync(dataSource, parse, partition, key, id, token).ConfigureAwait(false);
            var retried = await new OutboxAdmin(dataSource).RetryParkedAsync(selection, token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { selection.Partition, retried }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"parked retry: {retried} message(s) of partition {selection.Partition} will be published again").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Discard()
    {
        var (db, json, partition, key, id) = SelectionOptions();
        var reason = new Option<string>("--reason") { Description = "Why (kept in the audit record)", Required = true };
        var by = new Option<string>("--by")
        {
            Description = "Who (kept in the audit record; default: the user name)",
            DefaultValueFactory = _ => Environment.UserName,
        };
        var command = new Command("discard", "Give up on parked messages: move them to outbox.discarded with who, when and why")
        {
            db, json, partition, key, id, reason, by,
        };
        AddSelectionValidator(command, partition, key, id);
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "parked discard", async (dataSource, output, token) =>
        {
            var selection = await SelectAsync(dataSource, parse, partition, key, id, token).ConfigureAwait(false);
            var discarded = await new OutboxAdmin(dataSource).DiscardParkedAsync(selection, parse.GetValue(by)!, parse.GetValue(reason)!, token)
                .ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { selection.Partition, discarded }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"parked discard: {discarded} message(s) of partition {selection.Partition} moved to outbox.discarded").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static (Option<string> Db, Option<bool> Json, Option<int?> Partition, Option<string?> Key, Option<long?> Id) SelectionOptions() =>
        (CliDefaults.Database(), CliDefaults.Json(),
         new Option<int?>("--partition") { Description = "The partition (default: the partition of --key)" },
         new Option<string?>("--key") { Description = "Only the parked messages of this ordering key" },
         new Option<long?>("--id") { Description = "Only this message (its id, from `parked list`)" });

    private static void AddSelectionValidator(Command command, Option<int?> partition, Option<string?> key, Option<long?> id) =>
        command.Validators.Add(r =>
        {
            // Presence, not values: a value that does not parse is reported by the parser itself.
            if (r.GetResult(partition) is null && r.GetResult(key) is null)
                r.AddError("Give --partition (all its parked messages, or one with --id) or --key.");
            if (r.GetResult(id) is not null && r.GetResult(partition) is null)
                r.AddError("--id needs --partition.");
        });

    /// <summary>The selection, with the partition computed from the key when only the key was given.</summary>
    private static async Task<ParkedSelection> SelectAsync(NpgsqlDataSource dataSource, ParseResult parse, Option<int?> partition,
        Option<string?> key, Option<long?> id, CancellationToken cancellationToken)
    {
        var k = parse.GetValue(key);
        if (k is not null) AdminLimits.ValidateKey(k);
        var p = parse.GetValue(partition)
            ?? OutboxPartitioner.PartitionOf(k!, await new OutboxClient(dataSource).GetPartitionCountAsync(cancellationToken).ConfigureAwait(false));
        return new ParkedSelection(p, parse.GetValue(id), k);
    }

    private static void Render(IAnsiConsole console, IReadOnlyList<ParkedMessage> parked)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("partition", "id", "key", "topic", "attempts", "parked at", "waiting", "bytes", "reason");
        foreach (var m in parked)
        {
            table.AddRow(
                m.Partition.ToString(CultureInfo.InvariantCulture),
                m.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(m.Key),
                Markup.Escape(m.Topic),
                m.Attempts.ToString(CultureInfo.InvariantCulture),
                m.ParkedAt.ToString("u", CultureInfo.InvariantCulture),
                m.Waiting.ToString(CultureInfo.InvariantCulture),
                m.PayloadBytes.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(m.Reason ?? "-"));
        }
        console.Write(table);
        console.WriteLine($"{parked.Count} parked message(s), holding back {parked.Sum(m => m.Waiting)} later message(s) of their keys");
    }
}
