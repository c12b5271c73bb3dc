using System.Text.Json;
using Confluent.Kafka;
using Npgsql;
using Outbox.Contracts;
using Outbox.Contracts.Schema;
using Outbox.Grains.Hosting;
using Outbox.Grains.Publishing;

// An order service that publishes its events through the transactional outbox: the HTTP handler changes the
// order and enqueues the event in one database transaction, and the service's own Orleans silo hosts the
// relay's partition grains, which publish committed events to Kafka.
const int OutboxPartitions = 8;

var builder = WebApplication.CreateBuilder(args);
var orders = builder.Configuration.GetConnectionString("Orders")
    ?? throw new InvalidOperationException("Set ConnectionStrings:Orders to the orders database (an Npgsql connection string).");
var kafka = builder.Configuration["Kafka:BootstrapServers"]
    ?? throw new InvalidOperationException("Set Kafka:BootstrapServers.");

// What the relay needs from its host: the database that holds the outbox (here the service's own) and a Kafka
// producer. Idempotence and acks=all keep each key's events in order and unduplicated across retries; an
// idempotent producer that hits a fatal error is dead for good, so RelayProducer builds a new one when the
// error handler reports it.
builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(orders) { Name = "orders" }.Build());
var producerConfig = new ProducerConfig
{
    BootstrapServers = kafka,
    EnableIdempotence = true,
    Acks = Acks.All,
    LingerMs = 5,
};
builder.Services.AddSingleton(services => new RelayProducer(
    onFatal => new ProducerBuilder<byte[], byte[]>(producerConfig)
        .SetErrorHandler((producer, error) =>
        {
            if (error.IsFatal) onFatal(producer);
        })
        .Build(),
    services.GetRequiredService<ILogger<RelayProducer>>()));

builder.UseOrleans(silo => silo
    // One silo on this machine; a real deployment uses a clustering provider (e.g. ADO.NET on PostgreSQL).
    .UseLocalhostClustering(builder.Configuration.GetValue("Orleans:SiloPort", 11111), builder.Configuration.GetValue("Orleans:GatewayPort", 30000))
    .UseInMemoryReminderService()
    .AddOutboxRelay(relay => relay.PartitionCount = OutboxPartitions));

var app = builder.Build();

// The outbox schema (versioned migrations, idempotent) and the service's own table.
var database = app.Services.GetRequiredService<NpgsqlDataSource>();
await new OutboxMigrator(database).MigrateAsync(OutboxPartitions, CancellationToken.None);
await using (var create = database.CreateCommand("create table if not exists orders (id text primary key, status text not null)"))
    await create.ExecuteNonQueryAsync();

app.MapPost("/orders/{id}/pay", async (string id, NpgsqlDataSource db, IGrainFactory grains, CancellationToken ct) =>
{
    var paid = OutboxMessage.Json("orders", key: id, json: JsonSerializer.Serialize(new { id, status = "paid" })) with
    {
        EventType = "order-paid",
    };
    await using (var connection = await db.OpenConnectionAsync(ct))
    await using (var tx = await connection.BeginTransactionAsync(ct))
    {
        await using (var update = new NpgsqlCommand(
            "insert into orders (id, status) values (@id, 'paid') on conflict (id) do update set status = excluded.status", connection, tx))
        {
            update.Parameters.AddWithValue("id", id);
            await update.ExecuteNonQueryAsync(ct);
        }
        // Same transaction: the event exists if and only if the order change commits.
        await tx.EnqueueAsync(paid, ct);
        await tx.CommitAsync(ct);
    }
    // Committed: ask the key's partition grain to publish now instead of at its next sweep.
    await new OutboxClient(db, grains).RequestDrainForKeyAsync(id, ct);
    return Results.Accepted($"/orders/{id}", new { id, status = "paid", eventId = paid.EventId });
});

app.MapGet("/orders/{id}", async (string id, NpgsqlDataSource db, CancellationToken ct) =>
{
    await using var select = db.CreateCommand("select status from orders where id = @id");
    select.Parameters.AddWithValue("id", id);
    return await select.ExecuteScalarAsync(ct) is string status ? Results.Ok(new { id, status }) : Results.NotFound();
});

app.Run();
