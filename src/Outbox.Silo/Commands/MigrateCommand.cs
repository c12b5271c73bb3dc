using System.CommandLine;
using Npgsql;
using Outbox.Contracts.Schema;

namespace Outbox.Silo.Commands;

/// <summary><c>migrate</c>: applies the outbox schema and fixes the partition count.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var db = CliDefaults.Database();
        var partitions = new Option<int>("--partitions") { Description = "Partition count of this deployment (fixed at the first migration)", DefaultValueFactory = _ => 64 };
        partitions.Validators.Add(r =>
        {
            if (r.GetValue(partitions) is < 1 or > 4096) r.AddError("--partitions must be between 1 and 4096.");
        });
        var command = new Command("migrate", "Apply the outbox schema (versioned SQL) to the database") { db, partitions };
        command.SetAction(async (parse, ct) =>
        {
            var output = CliOutput.For(parse);
            try
            {
                await using var dataSource = NpgsqlDataSource.Create(parse.GetValue(db)!);
                var applied = await new OutboxMigrator(dataSource).MigrateAsync(parse.GetValue(partitions), ct).ConfigureAwait(false);
                output.Out.WriteLine(applied.Count == 0 ? "migrate: schema is up to date" : $"migrate: applied {string.Join(", ", applied)}");
                return ExitCodes.Ok;
            }
            catch (InvalidOperationException e)
            {
                await output.Error.WriteLineAsync("migrate: " + e.Message).ConfigureAwait(false);
                return ExitCodes.Failed;
            }
            catch (PostgresException e)
            {
                // The server answered and refused a statement: a failed migration, not an unavailable database.
                await output.Error.WriteLineAsync($"migrate: the database refused the migration: {e.SqlState}: {e.MessageText}").ConfigureAwait(false);
                return ExitCodes.Failed;
            }
            catch (NpgsqlException e)
            {
                await output.Error.WriteLineAsync("migrate: database unavailable: " + e.Message).ConfigureAwait(false);
                return ExitCodes.DatabaseUnavailable;
            }
        });
        return command;
    }
}
