using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains;
using Outbox.Silo.Membership;
using Spectre.Console;

namespace Outbox.Silo.Commands;

/// <summary><c>status</c>: every partition's owner, epoch, backlog, oldest pending age and parked rows.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var db = CliDefaults.Database();
        var json = CliDefaults.Json();
        var partition = new Option<int?>("--partition") { Description = "Show one partition only" };
        var silos = new Option<bool>("--silos") { Description = "Show the silos of Orleans' membership table and the partitions each owns" };
        var command = new Command("status", "Show the cluster's silos and partitions: owner, epoch, backlog, oldest pending age, parked") { db, json, partition, silos };
        command.SetAction(async (parse, ct) =>
        {
            var output = CliOutput.For(parse);
            try
            {
                await using var dataSource = NpgsqlDataSource.Create(parse.GetValue(db)!);
                if (parse.GetValue(silos)) return await SiloTable.ShowAsync(output, dataSource, parse.GetValue(json), ct).ConfigureAwait(false);
                var client = new OutboxClient(dataSource);
                var wanted = parse.GetValue(partition);
                var status = await client.GetStatusAsync(wanted, ct).ConfigureAwait(false);
                if (wanted is not null && status.Count == 0)
                {
                    await output.Error.WriteLineAsync($"status: no partition {wanted}").ConfigureAwait(false);
                    return ExitCodes.NotFound;
                }
                if (parse.GetValue(json)) output.Out.WriteLine(JsonSerializer.Serialize(status, JsonOptions));
                else
                {
                    if (wanted is null) SiloTable.Render(output.Console, await new SiloMembershipReader(dataSource).GetSilosAsync(ct).ConfigureAwait(false));
                    Render(output.Console, status);
                }
                return ExitCodes.Ok;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName
                                                  or PostgresErrorCodes.UndefinedFunction)
            {
                await output.Error.WriteLineAsync("status: this database has no outbox schema; run `outbox.sh migrate --db ...` first").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
            catch (NpgsqlException e)
            {
                await output.Error.WriteLineAsync("status: database unavailable: " + e.Message).ConfigureAwait(false);
                return ExitCodes.DatabaseUnavailable;
            }
        });
        return command;
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    private static void Render(IAnsiConsole console, IReadOnlyList<PartitionStatus> status)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("partition", "owner", "epoch", "backlog", "scheduled", "parked", "oldest pending", "paused");
        foreach (var p in status)
        {
            table.AddRow(
                p.Partition.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(p.Owner ?? "-"),
                p.Epoch.ToString(CultureInfo.InvariantCulture),
                p.Backlog.ToString(CultureInfo.InvariantCulture),
                p.Scheduled.ToString(CultureInfo.InvariantCulture),
                p.Parked > 0 ? $"[red]{p.Parked}[/]" : "0",
                p.OldestPendingAgeSeconds is { } age ? $"{age:0.0}s" : "-",
                p.Paused ? "yes" : "");
        }
        console.Write(table);
        console.MarkupLine($"{status.Sum(s => s.Backlog)} rows in the outbox, {status.Sum(s => s.Parked)} parked, owners: {string.Join(", ", status.Select(s => s.Owner ?? "-").Distinct().Order())}");
    }
}
