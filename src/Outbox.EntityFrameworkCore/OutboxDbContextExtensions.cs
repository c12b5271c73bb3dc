using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Outbox.Contracts;

namespace Outbox.EntityFrameworkCore;

/// <summary>
/// Enqueues outbox messages through a <see cref="DbContext"/> configured with
/// <see cref="OutboxDbContextOptionsExtensions.UseOutbox"/>: a message exists if and only if the transaction that
/// carries the context's changes commits. Every message is checked by <see cref="OutboxMessageValidator"/> when it is
/// handed over and again by the database when it is written, as on every other path.
/// </summary>
public static class OutboxDbContextExtensions
{
    /// <summary>
    /// Adds a message to the context's unit of work, as <c>Add</c> does an entity: the next <c>SaveChanges</c> writes it
    /// in the transaction that saves the changes (EF's own, or the context's current one), also when the execution
    /// strategy retries. A <c>SaveChanges</c> that fails keeps it pending, like the entities it could not save.
    /// Throws <see cref="OutboxValidationException"/> at once for an invalid message.
    /// </summary>
    public static void AddOutboxMessage(this DbContext context, OutboxMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        context.AddOutboxMessages([message]);
    }

    /// <summary>Adds messages to the context's unit of work in order (their publish order within a key); see <see cref="AddOutboxMessage"/>.</summary>
    public static void AddOutboxMessages(this DbContext context, IEnumerable<OutboxMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.ToList();
        foreach (var message in list) OutboxMessageValidator.Validate(message);
        Pending(context).Add(list);
    }

    /// <summary>
    /// Writes messages now, in the context's current transaction (<c>Database.BeginTransactionAsync</c>, or one the
    /// context enlisted with <c>UseTransaction</c>). Use inside the execution strategy's delegate when the strategy
    /// retries, so a retry writes them again in the new transaction. Throws <see cref="InvalidOperationException"/>
    /// without a current transaction: use <see cref="AddOutboxMessage"/> and <c>SaveChanges</c> then.
    /// </summary>
    public static Task EnqueueAsync(this DbContext context, OutboxMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return context.EnqueueAsync([message], cancellationToken);
    }

    /// <summary>Writes messages now, in order, in the context's current transaction; see <see cref="EnqueueAsync(DbContext, OutboxMessage, CancellationToken)"/>.</summary>
    public static Task EnqueueAsync(this DbContext context, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(messages);
        _ = Pending(context); // UseOutbox is required on this path too, so both paths behave alike in one context.
        var transaction = context.Database.CurrentTransaction
            ?? throw new InvalidOperationException(
                "The DbContext has no current transaction: begin one (Database.BeginTransactionAsync), or use AddOutboxMessage and SaveChanges.");
        return NpgsqlTransactionOf(transaction).EnqueueAsync(messages, cancellationToken);
    }

    internal static NpgsqlTransaction NpgsqlTransactionOf(IDbContextTransaction transaction) =>
        transaction.GetDbTransaction() as NpgsqlTransaction
        ?? throw new InvalidOperationException("The outbox needs the Npgsql provider (UseNpgsql): the context's transaction is not an NpgsqlTransaction.");

    private static PendingOutboxMessages Pending(DbContext context) =>
        ((IInfrastructure<IServiceProvider>)context).Instance.GetService(typeof(PendingOutboxMessages)) as PendingOutboxMessages
        ?? throw new InvalidOperationException("Call UseOutbox() on the DbContext's options (next to UseNpgsql) to enqueue through it.");
}
