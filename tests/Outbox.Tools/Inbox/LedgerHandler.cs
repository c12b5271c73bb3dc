using System.Globalization;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Outbox.Inbox;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Inbox;

/// <summary>
/// The consuming service of the demo, the benchmark and the end-to-end tests: every order event adds its version
/// to the order's balance and appends an entry, in the inbox's transaction. Since each order's committed versions are
/// 1..n, an effect applied exactly once and in order leaves, per order, n entries with versions 1..n in id order and
/// a balance of n(n+1)/2; a doubled, lost or reordered event shows in <see cref="LedgerCheck"/>.
/// </summary>
public sealed class LedgerHandler(IConfiguration configuration) : IInboxHandler
{
    private readonly int _delayMs = configuration.GetValue("Ledger:DelayMs", 0);

    public const string Schema = """
        create table if not exists ledger (key text primary key, balance bigint not null, applied bigint not null, last_version bigint not null);
        create table if not exists ledger_entries (id bigserial primary key, key text not null, version bigint not null, event_id uuid not null);
        """;

    public async Task HandleAsync(InboxEvent inboxEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inboxEvent);
        ArgumentNullException.ThrowIfNull(transaction);
        if (_delayMs > 0) await Task.Delay(_delayMs, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(inboxEvent, transaction, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The business effect alone (the benchmark's consumer without the inbox runs exactly this).</summary>
    public static async Task ApplyAsync(InboxEvent inboxEvent, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inboxEvent);
        ArgumentNullException.ThrowIfNull(transaction);
        var version = long.Parse(inboxEvent.Header(DeliveryVerifier.VersionHeader) ?? "1", CultureInfo.InvariantCulture);
        await using var batch = new NpgsqlBatch(transaction.Connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("insert into ledger_entries (key, version, event_id) values ($1, $2, $3)")
                {
                    Parameters = { new() { Value = inboxEvent.Key }, new() { Value = version }, new() { Value = inboxEvent.EventId } },
                },
                new NpgsqlBatchCommand("""
                    insert into ledger (key, balance, applied, last_version) values ($1, $2, 1, $2)
                    on conflict (key) do update
                    set balance = ledger.balance + excluded.balance, applied = ledger.applied + 1, last_version = excluded.last_version
                    """)
                {
                    Parameters = { new() { Value = inboxEvent.Key }, new() { Value = version } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task CreateTablesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(Schema);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
