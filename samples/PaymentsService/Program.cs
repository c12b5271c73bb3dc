using Npgsql;
using Outbox.Inbox;
using Outbox.Inbox.Hosting;

// A payments service that consumes the order service's events through the inbox: each order-paid event records a
// payment in this service's own database, in the same transaction as the inbox's record of the event, so a
// redelivered or re-published copy never records a second payment, and an order's events apply in their order.
var builder = Host.CreateApplicationBuilder(args);
var payments = builder.Configuration["Inbox:ConnectionString"]
    ?? throw new InvalidOperationException("Set Inbox:ConnectionString to the payments database (an Npgsql connection string).");

builder.Services.AddOutboxConsumer<OrderPaidHandler>(builder.Configuration.GetSection("Inbox"));

var host = builder.Build();

// The service's own table (the inbox creates its schema itself: Inbox:MigrateOnStart).
await using (var dataSource = NpgsqlDataSource.Create(payments))
await using (var create = dataSource.CreateCommand(
    "create table if not exists payments (order_id text primary key, event_id uuid not null, paid_at timestamptz not null default now())"))
{
    await create.ExecuteNonQueryAsync();
}

await host.RunAsync();

/// <summary>Records one payment per paid order, inside the inbox's transaction.</summary>
internal sealed class OrderPaidHandler(ILogger<OrderPaidHandler> logger) : IInboxHandler
{
    public async Task HandleAsync(InboxEvent inboxEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (inboxEvent.EventType != "order-paid") return; // other order events: nothing to do, still recorded as handled
        await using var insert = new NpgsqlCommand("insert into payments (order_id, event_id) values ($1, $2)", transaction.Connection, transaction)
        {
            Parameters = { new() { Value = inboxEvent.Key! }, new() { Value = inboxEvent.EventId } },
        };
        await insert.ExecuteNonQueryAsync(cancellationToken);
        logger.LogInformation("Payment recorded for order {Order} (event {EventId})", inboxEvent.Key, inboxEvent.EventId);
    }
}
