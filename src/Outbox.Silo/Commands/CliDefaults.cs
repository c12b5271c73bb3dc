using System.CommandLine;

namespace Outbox.Silo.Commands;

/// <summary>Options shared by the operator commands, with the embedded defaults of a development machine.</summary>
internal static class CliDefaults
{
    /// <summary>The local PostgreSQL that scripts/setup.sh prepares; overridden by OUTBOX_DB.</summary>
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("OUTBOX_DB") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : "Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox";

    public static Option<string> Database() => new("--db")
    {
        Description = "Npgsql connection string of the outbox database (default: OUTBOX_DB or the local development database)",
        DefaultValueFactory = _ => ConnectionString,
    };

    public static Option<bool> Json() => new("--json") { Description = "Print JSON for scripts instead of a table" };
}
