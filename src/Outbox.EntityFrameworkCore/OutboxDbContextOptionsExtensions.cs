using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Outbox.EntityFrameworkCore;

/// <summary>Turns on outbox enqueueing for a DbContext.</summary>
public static class OutboxDbContextOptionsExtensions
{
    /// <summary>
    /// Lets the context enqueue outbox messages (<see cref="OutboxDbContextExtensions"/>) in its transactions. Call next
    /// to <c>UseNpgsql</c>; the database needs the outbox schema (Outbox.Contracts' <c>OutboxMigrator</c>). Idempotent.
    /// </summary>
    public static DbContextOptionsBuilder UseOutbox(this DbContextOptionsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ((IDbContextOptionsBuilderInfrastructure)builder).AddOrUpdateExtension(
            builder.Options.FindExtension<OutboxOptionsExtension>() ?? new OutboxOptionsExtension());
        return builder;
    }

    /// <inheritdoc cref="UseOutbox(DbContextOptionsBuilder)"/>
    public static DbContextOptionsBuilder<TContext> UseOutbox<TContext>(this DbContextOptionsBuilder<TContext> builder) where TContext : DbContext =>
        (DbContextOptionsBuilder<TContext>)UseOutbox((DbContextOptionsBuilder)builder);
}
