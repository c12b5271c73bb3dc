using Microsoft.EntityFrameworkCore;
using Outbox.EntityFrameworkCore;

namespace Outbox.Tests.EntityFrameworkCore;

/// <summary>A business DbContext as an application writes one, with the outbox turned on and EF's retrying strategy.</summary>
public sealed class ShopContext(DbContextOptions<ShopContext> options) : DbContext(options)
{
    public DbSet<ShopOrder> Orders => Set<ShopOrder>();

    public static ShopContext Create(string connectionString, Action<DbContextOptionsBuilder<ShopContext>>? configure = null)
    {
        var builder = new DbContextOptionsBuilder<ShopContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.EnableRetryOnFailure(3, TimeSpan.FromMilliseconds(200),
                // A backend terminated by an administrator (what the retry test does to its connection) is worth a retry too.
                errorCodesToAdd: ["57P01"]))
            .UseOutbox();
        configure?.Invoke(builder);
        return new ShopContext(builder.Options);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<ShopOrder>(order =>
        {
            order.ToTable("shop_orders");
            order.HasKey(o => o.Id);
            order.Property(o => o.Id).HasColumnName("id");
            order.Property(o => o.Status).HasColumnName("status");
        });
}

public sealed class ShopOrder
{
    public string Id { get; set; } = "";

    public string Status { get; set; } = "";
}
