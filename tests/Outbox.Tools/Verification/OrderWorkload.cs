using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Npgsql;
using Outbox.Contracts;

namespace Outbox.Tools.Verification;

/// <summary>
/// Business transactions as a service would write them: bump an order's version (the row lock serialises
/// writers of one order) and enqueue an "order-changed" event in the same transaction. A share of the
/// transactions roll back after enqueueing, so their events must never be published.
/// </summary>
public sealed class OrderWorkload(NpgsqlDataSource database, string topic, int keys, double rollbackRatio)
{
    private readonly ConcurrentDictionary<Guid, long> _committed = new();
    private readonly ConcurrentDictionary<Guid, long> _committedMicros = new();
    private readonly ConcurrentBag<Guid> _rolledBack = [];
    private readonly ConcurrentBag<Guid> _unknown = [];
    private long _committedCount;
    private long _failures;

    /// <summary>Committed event ids and the Stopwatch timestamp right after their commit.</summary>
    public IReadOnlyDictionary<Guid, long> Committed => _committed;

    /// <summary>The same commits in Unix microseconds (the clock the relay's stage timestamps use).</summary>
    public IReadOnlyDictionary<Guid, long> CommittedMicros => _committedMicros;

    public IReadOnlyCollection<Guid> RolledBack => _rolledBack;

    /// <summary>Events whose commit was sent but never answered (the database went away meanwhile): committed or not.</summary>
    public IReadOnlyCollection<Guid> Unknown => _unknown;

    /// <summary>Transactions that failed with the database (only with tolerateFailures).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public long CommittedCount => Interlocked.Read(ref _committedCount);

    public async Task CreateTablesAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            create table if not exists orders (id text primary key, version bigint not null default 0, total numeric not null default 0);
            insert into orders (id) select 'order-' || g from generate_series(1, @keys) g on conflict do nothing;
            """);
        command.Parameters.AddWithValue("keys", keys);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="writers"/> concurrent writers until <paramref name="events"/> events committed, at about
    /// <paramref name="ratePerSecond"/> transactions a second. With <paramref name="tolerateFailures"/> a transaction that
    /// fails with the database (it crashed, failed over) is counted and the writer carries on after a short pause; one whose
    /// commit got no answer is recorded as <see cref="Unknown"/>.
    /// </summary>
    public async Task RunAsync(int events, int ratePerSecond, int writers, CancellationToken cancellationToken, bool tolerateFailures = false)
    {
        // Tokens about every 10 ms: arrivals close to steady, not a burst of a tenth of a second's load at once.
        var tokens = Math.Max(1, ratePerSecond / 100);
        using var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokens / ratePerSecond),
            QueueLimit = writers * 2,
            AutoReplenishment = true,
        });
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w * 7919 + Environment.TickCount);
            while (CommittedCount < events && !cancellationToken.IsCancellationRequested)
            {
                using var lease = await limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
                try
                {
                    await WriteOneAsync(random, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (tolerateFailures && !cancellationToken.IsCancellationRequested
                                          && e is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
                {
                    Interlocked.Increment(ref _failures);
                    await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                }
            }
        }, cancellationToken))).ConfigureAwait(false);
    }

    private async Task WriteOneAsync(Random random, CancellationToken cancellationToken)
    {
        var key = "order-" + random.Next(1, keys + 1).ToString(CultureInfo.InvariantCulture);
        var rollBack = random.NextDouble() < rollbackRatio;
        await using var connection = await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var update = new NpgsqlCommand("update orders set version = version + 1, total = total + 1 where id = @id returning version", connection, tx);
        update.Parameters.AddWithValue("id", key);
        var version = (long)(await update.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        var message = new OutboxMessage(topic, key, System.Text.Encoding.UTF8.GetBytes($$"""{"order":"{{key}}","version":{{version}}}"""))
        {
            EventType = "order-changed",
            Headers = new Dictionary<string, string> { [DeliveryVerifier.VersionHeader] = version.ToString(CultureInfo.InvariantCulture) },
        };
        await tx.EnqueueAsync(message, cancellationToken).ConfigureAwait(false);
        if (rollBack)
        {
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
            _rolledBack.Add(message.EventId);
            return;
        }
        try
        {
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            _unknown.Add(message.EventId);
            throw;
        }
        _committed[message.EventId] = Stopwatch.GetTimestamp();
        _committedMicros[message.EventId] = StageTimes.NowMicros();
        Interlocked.Increment(ref _committedCount);
    }
}
