using Npgsql;

namespace Outbox.Tools.Inbox;

/// <summary>
/// Compares the consumer's ledger with the orders the writers committed (orders.version per key is the number of
/// committed events of that key): applied exactly once (entries = committed, balance = n(n+1)/2) and in order
/// (versions 1..n in entry order). The two tables may be in different databases.
/// </summary>
public sealed record LedgerCheck(long Committed, long Applied, long Doubled, long Missing, long OutOfOrder, long WrongBalances)
{
    public bool ExactlyOnceInOrder => Applied == Committed && Doubled == 0 && Missing == 0 && OutOfOrder == 0 && WrongBalances == 0;

    public override string ToString() =>
        $"committed={Committed} applied={Applied} doubled={Doubled} missing={Missing} out_of_order={OutOfOrder} wrong_balances={WrongBalances}";

    /// <summary>How many entries the ledger has (progress while waiting).</summary>
    public static async Task<long> AppliedAsync(NpgsqlDataSource ledger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        await using var command = ledger.CreateCommand("select count(*) from ledger_entries");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public static async Task<LedgerCheck> RunAsync(NpgsqlDataSource orders, NpgsqlDataSource ledger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(orders);
        ArgumentNullException.ThrowIfNull(ledger);
        var committed = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = orders.CreateCommand("select id, version from orders where version > 0"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) committed[reader.GetString(0)] = reader.GetInt64(1);
        }
        long applied = 0, doubled = 0, missing = 0, outOfOrder = 0, wrongBalances = 0;
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = ledger.CreateCommand("select key, version from ledger_entries order by id"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied++;
                var key = reader.GetString(0);
                var version = reader.GetInt64(1);
                var last = seen.GetValueOrDefault(key);
                if (version <= last) doubled++;
                else if (version != last + 1) outOfOrder++;
                seen[key] = Math.Max(last, version);
            }
        }
        foreach (var (key, n) in committed) missing += Math.Max(0, n - seen.GetValueOrDefault(key));
        await using (var command = ledger.CreateCommand("select key, balance, applied from ledger"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var n = committed.GetValueOrDefault(reader.GetString(0));
                if (reader.GetInt64(1) != n * (n + 1) / 2 || reader.GetInt64(2) != n) wrongBalances++;
            }
        }
        return new LedgerCheck(committed.Values.Sum(), applied, doubled, missing, outOfOrder, wrongBalances);
    }
}
