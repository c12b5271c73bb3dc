using System.Globalization;
using Npgsql;

namespace Outbox.Inbox.Schema;

/// <summary>
/// Applies the inbox's numbered scripts (<c>Schema/Migrations/*.sql</c>, embedded, readable and appliable by a DBA
/// with psql) once each, in order, under an advisory lock so consumers starting together do not race. The
/// inbox has its own schema and migration table (<c>inbox.schema_migrations</c>): it may share a database with
/// an outbox or not.
/// </summary>
public sealed class InboxMigrator(NpgsqlDataSource dataSource)
{
    // Any constant works; it only has to be the same for every consumer of every version (and differ from the outbox's).
    private const long MigrationLockKey = 0x696e626f78; // "inbox"
    private const string Prefix = "Outbox.Inbox.Schema.Migrations.";

    /// <summary>The embedded migrations, ordered by their number.</summary>
    public static IReadOnlyList<(int Version, string Name)> Migrations { get; } =
        typeof(InboxMigrator).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Select(n => (Version: int.Parse(n.AsSpan(0, n.IndexOf('_', StringComparison.Ordinal)), CultureInfo.InvariantCulture), Name: n))
            .OrderBy(m => m.Version)
            .ToArray();

    /// <summary>The SQL text of one migration, as a DBA would apply it.</summary>
    public static string Script(string name)
    {
        using var stream = typeof(InboxMigrator).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new ArgumentException($"There is no inbox migration '{name}'.", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Applies what is missing and returns the versions applied now.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            var applied = new List<int>();
            var existing = await AppliedAsync(connection, cancellationToken).ConfigureAwait(false);
            foreach (var (version, name) in Migrations.Where(m => !existing.Contains(m.Version)))
            {
                // Each script records itself in inbox.schema_migrations, as it does when a DBA applies it by hand.
                await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (var migrate = new NpgsqlCommand(Script(name), connection, tx))
                    await migrate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                applied.Add(version);
            }
            return applied;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select version from inbox.schema_migrations", connection);
        var versions = new HashSet<int>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) versions.Add(reader.GetInt32(0));
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName)
        {
            // A database the inbox has never been set up in.
        }
        return versions;
    }
}
