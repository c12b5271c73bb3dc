using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;
using Outbox.Contracts;

namespace Outbox.EntityFrameworkCore;

/// <summary>
/// Writes a context's pending outbox messages in the transaction that saves its changes:
/// <list type="bullet">
/// <item>inside the context's current transaction, at the start of SaveChanges, ahead of the savepoint EF takes for
/// the save (a save rolled back to it leaves the messages in the transaction, as an <c>EnqueueAsync</c> would);</item>
/// <item>otherwise in the transaction EF begins for the save, as soon as it begins, so every attempt of a retrying
/// execution strategy writes them again in its own transaction (a save of one command, which EF would run without a
/// transaction, is given one);</item>
/// <item>with no entity to save, in a transaction of their own, under the context's execution strategy.</item>
/// </list>
/// Messages leave the context only once written in a transaction of its own choosing that committed, or handed to
/// its current transaction; a failed save keeps them, like the entities it could not save.
/// </summary>
internal sealed class OutboxSaveChangesInterceptor : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    public async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        if (eventData.Context is not { } context || PendingOf(context) is not { IsEmpty: false } pending) return result;
        if (context.Database.CurrentTransaction is { } current)
        {
            await OutboxDbContextExtensions.NpgsqlTransactionOf(current).EnqueueAsync(pending.Messages, cancellationToken).ConfigureAwait(false);
            pending.Clear();
            return result;
        }
        if (!context.ChangeTracker.HasChanges())
        {
            await WriteAloneAsync(context, pending, cancellationToken).ConfigureAwait(false);
            return result;
        }
        pending.SavingInOwnTransaction = true;
        if (context.Database.AutoTransactionBehavior != AutoTransactionBehavior.Always)
        {
            pending.RestoreAutoTransactions = context.Database.AutoTransactionBehavior;
            context.Database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
        }
        return result;
    }

    public async ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result,
        CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && PendingOf(context) is { SavingInOwnTransaction: true, IsEmpty: false } pending)
            await ((NpgsqlTransaction)result).EnqueueAsync(pending.Messages, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && PendingOf(context) is { SavingInOwnTransaction: true } pending)
        {
            pending.Clear();
            EndSave(context, pending);
        }
        return ValueTask.FromResult(result);
    }

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        EndSave(eventData.Context);
        return Task.CompletedTask;
    }

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        EndSave(eventData.Context);
        return Task.CompletedTask;
    }

    /// <summary>The outbox writer is asynchronous (as the rest of the product): a synchronous save with messages pending is refused before it writes anything.</summary>
    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        eventData.Context is { } context && PendingOf(context) is { IsEmpty: false }
            ? throw new InvalidOperationException("The DbContext has outbox messages to write: save with SaveChangesAsync.")
            : result;

    private static async Task WriteAloneAsync(DbContext context, PendingOutboxMessages pending, CancellationToken cancellationToken)
    {
        var strategy = context.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(async ct =>
        {
            await using var transaction = await context.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            await OutboxDbContextExtensions.NpgsqlTransactionOf(transaction).EnqueueAsync(pending.Messages, ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        pending.Clear();
    }

    private static void EndSave(DbContext? context)
    {
        if (context is not null && PendingOf(context) is { } pending) EndSave(context, pending);
    }

    private static void EndSave(DbContext context, PendingOutboxMessages pending)
    {
        pending.SavingInOwnTransaction = false;
        if (pending.RestoreAutoTransactions is { } behavior) context.Database.AutoTransactionBehavior = behavior;
        pending.RestoreAutoTransactions = null;
    }

    private static PendingOutboxMessages? PendingOf(DbContext context) =>
        ((IInfrastructure<IServiceProvider>)context).Instance.GetService(typeof(PendingOutboxMessages)) as PendingOutboxMessages;
}
