using Npgsql;
using Outbox.Contracts;

namespace OrderService.Orders;

/// <summary>Paying an order with plain Npgsql: the order's change and its event in one transaction.</summary>
internal static class NpgsqlOrders
{
    public static void MapNpgsqlOrders(this WebApplication app)
    {
        app.MapPost("/orders/{id}/pay", async (string id, NpgsqlDataSource db, CancellationToken ct) =>
        {
            var paid = OrderEvents.Paid(id);
            await using var connection = await db.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            await using (var update = new NpgsqlCommand(
                "insert into orders (id, status) values (@id, 'paid') on conflict (id) do update set status = excluded.status", connection, tx))
            {
                update.Parameters.AddWithValue("id", id);
                await update.ExecuteNonQueryAsync(ct);
            }
            // Same transaction: the event exists if and only if the order change commits. Nothing after the commit can
            // fail the request: the relay's change probe finds the committed row within milliseconds and publishes it.
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
    }
}

