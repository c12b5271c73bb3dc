using System.CommandLine;
using Npgsql;
using Outbox.Contracts.Admin;

namespace Outbox.Silo.Commands;

/// <summary>
/// Runs an operator command against the outbox database and turns the admin API's failures into clear
/// messages and the exit codes scripts rely on.
/// </summary>
internal static class AdminCommandRunner
{
    public static async Task<int> RunAsync(ParseResult parse, Option<string> db, string verb,
        Func<NpgsqlDataSource, CliOutput, CancellationToken, Task<int>> action, CancellationToken cancellationToken,
        string missingSchema = "the outbox schema is missing in this database; run migrate first")
    {
        var output = CliOutput.For(parse);
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(parse.GetValue(db)!);
            return await action(dataSource, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OutboxNotFoundException or Outbox.Inbox.Admin.InboxNotFoundException)
        {
            return await output.FailAsync(verb, e.Message, ExitCodes.NotFound).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            // Also a connection string that does not parse.
            return await output.FailAsync(verb, e.Message, ExitCodes.Usage).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            return await output.FailAsync(verb, missingSchema, ExitCodes.Failed).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            return await output.FailAsync(verb, "database unavailable: " + e.Message, ExitCodes.DatabaseUnavailable).ConfigureAwait(false);
        }
    }
}
