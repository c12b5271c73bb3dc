using System.CommandLine;
using System.Globalization;
using Outbox.Inbox.Admin;
using Outbox.Inbox.Schema;
using Spectre.Console;

namespace Outbox.Silo.Commands;

/// <summary>
/// <c>inbox parked list|retry|discard</c> and <c>inbox migrate</c>: a consuming service's inbox (Outbox.Inbox), with
/// the conventions of the relay's own <c>parked</c> verbs (--db, --json, exit codes). --db names the consuming
/// service's database.
/// </summary>
internal static class InboxCommand
{
    private const string MissingSchema = "the inbox schema is missing in this database; run `inbox migrate` first";

    public static Command Create() => new("inbox", "A consuming service's inbox: parked events, schema")
    {
        new Command("parked", "List, retry or discard a consumer group's parked events") { List(), Retry(), Discard() },
        Migrate(),
    };

    private static Command List()
    {
        var (db, json, group) = (CliDefaults.Database(), CliDefaults.Json(), Group());
        var topic = new Option<string?>("--topic") { Description = "Only this topic" };
        var key = new Option<string?>("--key") { Description = "Only this ordering key" };
        var limit = new Option<int>("--limit") { Description = $"At most this many (1-{InboxAdmin.MaxListLimit})", DefaultValueFactory = _ => 100 };
        var command = new Command("list", "List parked events: id, key, reason, attempts, error") { db, json, group, topic, key, limit };
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "inbox parked list", async (dataSource, output, token) =>
        {
            var parked = await new InboxAdmin(dataSource).ListParkedAsync(parse.GetValue(group)!, parse.GetValue(topic), parse.GetValue(key),
                parse.GetValue(limit), token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(parked).ConfigureAwait(false);
            else Render(output.Console, parked);
            return ExitCodes.Ok;
        }, ct, MissingSchema));
        return command;
    }

    private static Command Retry()
    {
        var (db, json, group, id, topic, key, all) = SelectionOptions();
        var command = new Command("retry", "Apply parked events again (after fixing the cause); a key's events follow in order") { db, json, group, id, topic, key, all };
        AddSelectionValidator(command, id, key, all);
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "inbox parked retry", async (dataSource, output, token) =>
        {
            var selection = Selection(parse, group, id, topic, key);
            var retried = await new InboxAdmin(dataSource).RetryParkedAsync(selection, token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { selection.ConsumerGroup, retried }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"inbox parked retry: {retried} event(s) of group {selection.ConsumerGroup} will be applied again").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct, MissingSchema));
        return command;
    }

    private static Command Discard()
    {
        var (db, json, group, id, topic, key, all) = SelectionOptions();
        var reason = new Option<string>("--reason") { Description = "Why (kept in the audit record)", Required = true };
        var by = new Option<string>("--by") { Description = "Who (kept in the audit record; default: the user name)", DefaultValueFactory = _ => Environment.UserName };
        var command = new Command("discard", "Give up on parked events: move them to inbox.discarded with who, when and why; their keys go on")
        {
            db, json, group, id, topic, key, all, reason, by,
        };
        AddSelectionValidator(command, id, key, all);
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "inbox parked discard", async (dataSource, output, token) =>
        {
            var selection = Selection(parse, group, id, topic, key);
            var discarded = await new InboxAdmin(dataSource).DiscardParkedAsync(selection, parse.GetValue(by)!, parse.GetValue(reason)!, token).ConfigureAwait(false);
            if (parse.GetValue(json)) await output.JsonAsync(new { selection.ConsumerGroup, discarded }).ConfigureAwait(false);
            else await output.Out.WriteLineAsync($"inbox parked discard: {discarded} event(s) of group {selection.ConsumerGroup} moved to inbox.discarded").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct, MissingSchema));
        return command;
    }

    private static Command Migrate()
    {
        var db = CliDefaults.Database();
        var command = new Command("migrate", "Apply the inbox schema's missing migrations (src/Outbox.Inbox/Schema/Migrations)") { db };
        command.SetAction((parse, ct) => AdminCommandRunner.RunAsync(parse, db, "inbox migrate", async (dataSource, output, token) =>
        {
            var applied = await new InboxMigrator(dataSource).MigrateAsync(token).ConfigureAwait(false);
            await output.Out.WriteLineAsync(applied.Count == 0 ? "inbox migrate: up to date"
                : $"inbox migrate: applied {string.Join(", ", applied)}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct, MissingSchema));
        return command;
    }

    private static Option<string> Group() => new("--group") { Description = "The consumer group (Inbox:GroupId)", Required = true };

    private static (Option<string> Db, Option<bool> Json, Option<string> Group, Option<long?> Id, Option<string?> Topic, Option<string?> Key, Option<bool> All)
        SelectionOptions() =>
        (CliDefaults.Database(), CliDefaults.Json(), Group(),
         new Option<long?>("--id") { Description = "One parked event (its id, from `inbox parked list`)" },
         new Option<string?>("--topic") { Description = "Only events of this topic" },
         new Option<string?>("--key") { Description = "The parked events of this ordering key" },
         new Option<bool>("--all") { Description = "Every parked event of the group (of --topic when given)" });

    private static void AddSelectionValidator(Command command, Option<long?> id, Option<string?> key, Option<bool> all) =>
        command.Validators.Add(r =>
        {
            // Presence, not values: a value that does not parse is reported by the parser itself.
            var given = new[] { r.GetResult(id) is not null, r.GetResult(key) is not null, r.GetResult(all) is not null }.Count(g => g);
            if (given != 1) r.AddError("Give exactly one of --id, --key or --all.");
        });

    private static InboxParkedSelection Selection(ParseResult parse, Option<string> group, Option<long?> id, Option<string?> topic, Option<string?> key) =>
        new(parse.GetValue(group)!, parse.GetValue(id), parse.GetValue(topic), parse.GetValue(key));

    private static void Render(IAnsiConsole console, IReadOnlyList<InboxParkedEvent> parked)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("id", "topic", "partition", "offset", "key", "reason", "attempts", "parked at", "error");
        foreach (var e in parked)
        {
            table.AddRow(
                e.Id.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(e.Topic),
                e.Partition.ToString(CultureInfo.InvariantCulture),
                e.Offset.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(e.Key ?? "-"),
                e.Reason.ToString().ToLowerInvariant() + (e.RetryRequestedAt is null ? "" : " (retry requested)"),
                e.Attempts.ToString(CultureInfo.InvariantCulture),
                e.ParkedAt.ToString("u", CultureInfo.InvariantCulture),
                Markup.Escape(e.Error ?? "-"));
        }
        console.Write(table);
        console.WriteLine($"{parked.Count} parked event(s): {parked.Count(p => p.Reason == InboxParkedReason.Failed)} failed, " +
                          $"{parked.Count(p => p.Reason == InboxParkedReason.Waiting)} waiting behind them, {parked.Count(p => p.Reason == InboxParkedReason.Late)} late");
    }
}
