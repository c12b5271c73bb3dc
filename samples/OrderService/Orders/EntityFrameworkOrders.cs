using Microsoft.EntityFrameworkCore;
using Outbox.EntityFrameworkCore;

namespace OrderService.Orders;

/// <summary>Paying an order with EF Core: the event is added to the context and saved with the order, in one transaction.</summary>
internal static class EntityFrameworkOrders
{
    public static void MapEntityFrameworkOrders(this WebApplication app)
    {
        app.MapPost("/orders/{id}/pay", async (string id, OrdersContext db, CancellationToken ct) =>
        {
            var order = await db.Orders.FindAsync([id], ct) ?? db.Orders.Add(new Order { Id = id }).Entity;
            order.Status = "paid";
            var paid = OrderEvents.Paid(id);
            // Written by SaveChangesAsync in the transaction that saves the order (each retry of the execution strategy
            // writes it again in its own): the event exists if and only if the order change commits.
            db.AddOutboxMessage(paid);
            await db.SaveChangesAsync(ct);
            return Results.Accepted($"/orders/{id}", new { id, status = "paid", eventId = paid.EventId });
        });

        app.MapGet("/orders/{id}", async (string id, OrdersContext db, CancellationToken ct) =>
            await db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, ct) is { } order
                ? Results.Ok(new { id, status = order.Status })
                : Results.NotFound());
    }
}

/// <summary>The service's DbContext: its orders table.</summary>
internal sealed class OrdersContext(DbContextOptions<OrdersContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable("orders");
            order.Property(o => o.Id).HasColumnName("id");
            order.Property(o => o.Status).HasColumnName("status");
        });
}

internal sealed class Order
{
    public string Id { get; set; } = "";

    public string Status { get; set; } = "";
}
