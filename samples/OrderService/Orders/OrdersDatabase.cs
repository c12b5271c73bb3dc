using Npgsql;

namespace OrderService.Orders;

/// <summary>The service's database: created on first start, with its orders table (the relay adds the outbox schema).</summary>
internal static class OrdersDatabase
{
    public static async Task CreateAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new InvalidOperationException("ConnectionStrings:Orders names no Database.");
        await using (var server = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @name", server);
            exists.Parameters.AddWithValue("name", name);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                // CREATE DATABASE takes no parameters: the name is quoted as an identifier instead.
                await using var create = new NpgsqlCommand($"create database \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", server);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await using var database = new NpgsqlConnection(connectionString);
        await database.OpenAsync(cancellationToken);
        await using var table = new NpgsqlCommand("create table if not exists orders (id text primary key, status text not null)", database);
        await table.ExecuteNonQueryAsync(cancellationToken);
    }
}
