using Npgsql;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Infrastructure;

/// <summary>An empty database (no outbox schema), private to one test, dropped afterwards.</summary>
public sealed class TestDatabaseWithoutSchema : IAsyncDisposable
{
    private readonly string _name = "outbox_empty_" + Guid.NewGuid().ToString("N")[..12];

    public string ConnectionString { get; private set; } = "";

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await LocalEnvironment.RecreateDatabaseAsync(TestDatabase.ServerConnectionString, _name, CancellationToken.None);
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestDatabase.ServerConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {_name} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}
