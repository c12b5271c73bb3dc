using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains.Health;
using Outbox.Grains.Hosting;

// An order service that publishes its events through the transactional outbox: the HTTP handler changes the
// order and enqueues the event in one database transaction, and the service's own Orleans silo hosts the relay,
// which publishes committed events to Kafka.
var builder = WebApplication.CreateBuilder(args);

// The service's own pool for its business transactions. The relay keeps pools of its own (keyed services), so
// the two never share connections or collide in the container.
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("Orders")
    ?? throw new InvalidOperationException("Set ConnectionStrings:Orders to the orders database (an Npgsql connection string).")));

builder.UseOrleans(silo => silo
    // One silo on this machine; a real deployment uses a clustering provider (e.g. ADO.NET on PostgreSQL).
    .UseLocalhostClustering(builder.Configuration.GetValue("Orleans:SiloPort", 11111), builder.Configuration.GetValue("Orleans:GatewayPort", 30000))
    .UseInMemoryReminderService()
    // The complete relay, configured from appsettings.json (Outbox:*, Kafka:*, Relay:*) and validated at start-up.
    .AddOutboxRelay());

var app = builder.Build();

await using (var create = app.Services.GetRequiredService<NpgsqlDataSource>()
    .CreateCommand("create table if not exists orders (id text primary key, status text not null)"))
    await create.ExecuteNonQueryAsync();

app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(OutboxRelayHealthChecks.ReadyTag) });

app.MapPost("/orders/{id}/pay", async (string id, NpgsqlDataSource db, CancellationToken ct) =>
{
    var paid = OutboxMessage.Json("orders", key: id, json: JsonSerializer.Serialize(new { id, status = "paid" })) with
    {
        EventType = "order-paid",
    };
    await using var connection = await db.OpenConnectionAsync(ct);
    await using var tx = await connection.BeginTransactionAsync(ct);
    await using (var update = new NpgsqlCommand(
        "insert into orders (id, status) values (@id, 'paid') on conflict (id) do update set status = excluded.status", connection, tx))
    {
        update.Parameters.AddWithValue("id", id);
        await update.ExecuteNonQueryAsync(ct);
    }
    // Same transaction: the event exists if and only if the order change commits. Nothing follows the commit that
    // could fail: the relay's change probe sees the committed row within milliseconds and publishes it.
    await tx.EnqueueAsync(paid, ct);
    await tx.CommitAsync(ct);
    return Results.Accepted($"/orders/{id}", new { id, status = "paid", eventId = paid.EventId });
});

app.MapGet("/orders/{id}", async (string id, NpgsqlDataSource db, CancellationToken ct) =>
{
    await using var select = db.CreateCommand("select status from orders where id = @id");
    select.Parameters.AddWithValue("id", id);
    return await select.ExecuteScalarAsync(ct) is string status ? Results.Ok(new { id, status }) : Results.NotFound();
});

app.Run();
