using Npgsql;

namespace Outbox.Inbox;

/// <summary>
/// The consuming service's business logic for one event. It runs inside the given transaction, an open
/// transaction of the service's database in which the inbox also records the event: the effect commits exactly
/// once, with the record, or not at all. Do the event's writes on <c>transaction.Connection</c> with that
/// transaction (EF Core: <c>Database.UseTransaction</c>); do not commit or roll it back. A handler may be called
/// again for the same event after a failure or a crash (its earlier attempt rolled back), so it must not have effects
/// outside the transaction that cannot be repeated. An exception fails the event: it is retried with backoff and,
/// after <see cref="InboxOptions.MaxAttempts"/>, parked or dead-lettered.
/// </summary>
public interface IInboxHandler
{
    /// <summary>Applies <paramref name="inboxEvent"/>'s effect inside <paramref name="transaction"/>.</summary>
    Task HandleAsync(InboxEvent inboxEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken);
}
