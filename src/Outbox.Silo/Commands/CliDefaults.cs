using System.CommandLine;
using Npgsql;

namespace Outbox.Silo.Commands;

/// <summary>Options shared by the operator commands, with the embedded defaults of a development machine.</summary>
internal static class CliDefaults
{
    /// <summary>The local PostgreSQL that scripts/setup.sh prepares; overridden by OUTBOX_DB.</summary>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("OUTBOX_DB") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : "Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox";

    /// <summary>--db, refused as a usage error (exit 2) when it is not a connection string Npgsql can parse.</summary>
    public static Option<string> Database()
    {
        var option = new Option<string>("--db")
        {
            Description = "Npgsql connection string of the outbox database (default: OUTBOX_DB or the local development database)",
            DefaultValueFactory = _ => ConnectionString,
        };
        option.Validators.Add(r =>
        {
            try
            {
                _ = new NpgsqlConnectionStringBuilder(r.GetValueOrDefault<string>());
            }
            catch (ArgumentException e)
            {
                r.AddError($"--db is not a valid Npgsql connection string: {e.Message}");
            }
        });
        return option;
    }

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of a table" };
}
