using System.Globalization;
using Npgsql;

namespace Outbox.Contracts.Schema;

/// <summary>
/// Applies the numbered scripts in <c>Schema/Migrations</c> once each, in order, under an advisory lock so
/// several silos starting together do not race, and fixes the deployment's partition count.
/// </summary>
public sealed class OutboxMigrator(NpgsqlDataSource dataSource)
{
    // Any constant works; it only has to be the same for every silo of every version.
    private const long MigrationLockKey = 0x6f7574626f78; // "outbox"
    private const string Prefix = "Outbox.Contracts.Schema.Migrations.";

    /// <summary>The embedded migrations, ordered by their number.</summary>
    public static IReadOnlyList<(int Version, string Name)> Migrations { get; } =
        typeof(OutboxMigrator).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Select(n => (Version: int.Parse(n.AsSpan(0, n.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture), Name: n))
            .OrderBy(m => m.Version)
            .ToArray();

    /// <summary>Applies what is missing and returns the versions applied now.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(int partitionCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitionCount, 4096);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "select pg_advisory_lock(@key)", cancellationToken, ("key", MigrationLockKey)).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, """
                create schema if not exists outbox;
                create table if not exists outbox.schema_migrations (
                    version int primary key, name text not null, applied_at timestamptz not null default now())
                """, cancellationToken).ConfigureAwait(false);
            var applied = new List<int>();
            foreach (var (version, name) in Migrations)
            {
                if (await IsAppliedAsync(connection, version, cancellationToken).ConfigureAwait(false)) continue;
                await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, tx, ReadMigration(name), cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, tx, "insert into outbox.schema_migrations (version, name) values (@v, @n) on conflict (version) do nothing",
                    cancellationToken, ("v", version), ("n", name)).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
                applied.Add(version);
            }
            await FixPartitionCountAsync(connection, partitionCount, cancellationToken).ConfigureAwait(false);
            return applied;
        }
        finally
        {
            await ExecuteAsync(connection, null, "select pg_advisory_unlock(@key)", CancellationToken.None, ("key", MigrationLockKey)).ConfigureAwait(false);
        }
    }

    /// <summary>The partition count the database was set up with, or null before the first migration.</summary>
    public async Task<int?> ReadPartitionCountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "select partition_count from outbox.settings where to_regclass('outbox.settings') is not null", connection);
        try
        {
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as int?;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable || e.SqlState == PostgresErrorCodes.InvalidSchemaName)
        {
            return null;
        }
    }

    private static async Task FixPartitionCountAsync(NpgsqlConnection connection, int partitionCount, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into outbox.settings (partition_count) values (@n) on conflict (singleton) do nothing;
            insert into outbox.partitions (partition) select generate_series(0, @n - 1) on conflict do nothing;
            select partition_count from outbox.settings;
            """, connection);
        command.Parameters.AddWithValue("n", partitionCount);
        var existing = (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (existing != partitionCount)
            throw new InvalidOperationException(
                $"The outbox in this database was created with {existing} partitions, but {partitionCount} were configured. " +
                "The partition count is fixed per deployment (keys hash to partitions); configure Outbox:PartitionCount={existing}.");
        // The count is fixed from now on: the function every insert asks becomes the constant (migration 014).
        if (await FunctionExistsAsync(connection, "outbox.partition_count()", cancellationToken).ConfigureAwait(false))
        {
            await using var constant = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture,
                $"create or replace function outbox.partition_count() returns int language sql immutable strict parallel safe as 'select {existing}'"), connection);
            await constant.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<bool> FunctionExistsAsync(NpgsqlConnection connection, string signature, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select to_regprocedure(@signature) is not null", connection);
        command.Parameters.AddWithValue("signature", signature);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task<bool> IsAppliedAsync(NpgsqlConnection connection, int version, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select exists (select 1 from outbox.schema_migrations where version = @v)", connection);
        command.Parameters.AddWithValue("v", version);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static string ReadMigration(string name) => SqlResource.Read(typeof(OutboxMigrator).Assembly, "Schema.Migrations." + name);

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql,
        CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
