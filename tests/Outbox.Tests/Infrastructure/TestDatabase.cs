using Npgsql;
using Outbox.Contracts.Schema;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Infrastructure;

/// <summary>A fresh PostgreSQL database with the outbox schema, private to one test class, dropped afterwards.</summary>
public sealed class TestDatabase(string serverConnectionString) : IAsyncLifetime
{
    public const int Partitions = 16;

    public TestDatabase()
        : this(ServerConnectionString)
    {
    }

    /// <summary>The local server scripts/setup.sh prepares; OUTBOX_DB points elsewhere.</summary>
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("OUTBOX_DB") is { Length: > 0 } db ? db : "Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox";

    public string Name { get; } = "outbox_test_" + Guid.NewGuid().ToString("N")[..12];

    public string ConnectionString { get; private set; } = "";

    /// <summary>A pool for the test's own "business" transactions, separate from any silo's pool.</summary>
    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public Task InitializeAsync() => InitializeWithAsync(Partitions);

    /// <summary>Creates the database with <paramref name="partitions"/> partitions instead of the tests' usual count.</summary>
    public async Task InitializeWithAsync(int partitions)
    {
        ConnectionString = await LocalEnvironment.RecreateDatabaseAsync(serverConnectionString, Name, CancellationToken.None);
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await new OutboxMigrator(DataSource).MigrateAsync(partitions, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(serverConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
