using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Outbox.Contracts;

namespace Outbox.EntityFrameworkCore;

/// <summary>
/// The messages a context was given with <c>AddOutboxMessage</c> and has not yet written in a committed save, and
/// the state of the save in progress. One per context instance (EF's scope); emptied when a pooled context is reset.
/// </summary>
internal sealed class PendingOutboxMessages : IResettableService
{
    private readonly List<OutboxMessage> _messages = [];

    public IReadOnlyList<OutboxMessage> Messages => _messages;

    public bool IsEmpty => _messages.Count == 0;

    /// <summary>True while a SaveChanges of this context runs in a transaction EF begins for it.</summary>
    public bool SavingInOwnTransaction { get; set; }

    /// <summary>The context's setting before a save that needed a transaction forced one; restored afterwards.</summary>
    public AutoTransactionBehavior? RestoreAutoTransactions { get; set; }

    public void Add(IEnumerable<OutboxMessage> messages) => _messages.AddRange(messages);

    public void Clear() => _messages.Clear();

    public void ResetState()
    {
        _messages.Clear();
        SavingInOwnTransaction = false;
        RestoreAutoTransactions = null;
    }

    public Task ResetStateAsync(CancellationToken cancellationToken = default)
    {
        ResetState();
        return Task.CompletedTask;
    }
}
