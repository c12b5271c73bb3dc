using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Outbox.Contracts;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the business transaction pays for the outbox: the same transaction (bump an order, write its event, commit)
/// with a plain INSERT into a table of the outbox's shape, and with <c>outbox.enqueue</c>, in alternating phases of
/// one run so both meet the same machine. No relay runs meanwhile: this measures the writers' side alone.
/// </summary>
internal sealed class WriteScenario : IBenchScenario
{
    private const string Topic = "bench-write";

    public string Name => BenchScenarios.Write;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        await environment.StopSiloAsync().ConfigureAwait(false);
        await new OrderWorkload(environment.DataSource, Topic, settings.Keys, rollbackRatio: 0).CreateTablesAsync(cancellationToken).ConfigureAwait(false);
        await using (var schema = environment.DataSource.CreateCommand(BenchSql.WritePlainSchema))
            await schema.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        var connections = new NpgsqlConnection[settings.WriteClients];
        for (var i = 0; i < connections.Length; i++)
            connections[i] = await environment.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var phase = TimeSpan.FromSeconds(Math.Max(1.0, settings.WriteSeconds / 10.0));
            var totals = new Dictionary<bool, (long Commits, double Seconds)> { [false] = (0, 0), [true] = (0, 0) };
            var started = Stopwatch.GetTimestamp();
            for (var enqueue = false; Stopwatch.GetElapsedTime(started).TotalSeconds < settings.WriteSeconds; enqueue = !enqueue)
            {
                var (commits, seconds) = await RunPhaseAsync(connections, enqueue, phase, settings, cancellationToken).ConfigureAwait(false);
                totals[enqueue] = (totals[enqueue].Commits + commits, totals[enqueue].Seconds + seconds);
            }
            await using (var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages))
                await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new WriteResult(settings.WriteClients, settings.WriteSeconds,
                totals[false].Commits / Math.Max(totals[false].Seconds, 0.001), totals[true].Commits / Math.Max(totals[true].Seconds, 0.001));
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Every client commits business transactions of one variant for <paramref name="length"/>.</summary>
    private static async Task<(long Commits, double Seconds)> RunPhaseAsync(NpgsqlConnection[] connections, bool enqueue, TimeSpan length,
        BenchSettings settings, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var counts = await Task.WhenAll(connections.Select((connection, client) => Task.Run(async () =>
        {
            var random = new Random(client * 7919 + Environment.TickCount);
            long commits = 0;
            while (Stopwatch.GetElapsedTime(started) < length && !cancellationToken.IsCancellationRequested)
            {
                await WriteOneAsync(connection, enqueue, random, settings, cancellationToken).ConfigureAwait(false);
                commits++;
            }
            return commits;
        }, cancellationToken))).ConfigureAwait(false);
        return (counts.Sum(), Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static async Task WriteOneAsync(NpgsqlConnection connection, bool enqueue, Random random, BenchSettings settings,
        CancellationToken cancellationToken)
    {
        var key = "order-" + random.Next(1, settings.Keys + 1).ToString(CultureInfo.InvariantCulture);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long version;
        await using (var business = new NpgsqlCommand(BenchSql.WriteBusiness, connection, tx))
        {
            business.Parameters.AddWithValue("key", key);
            version = (long)(await business.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        await using (var write = new NpgsqlCommand(enqueue ? BenchSql.WriteEnqueue : BenchSql.WritePlain, connection, tx))
        {
            write.Parameters.AddWithValue("topic", Topic);
            write.Parameters.AddWithValue("key", key);
            write.Parameters.AddWithValue("payload", Encoding.UTF8.GetBytes($$"""{"order":"{{key}}","version":{{version}}}"""));
            write.Parameters.AddWithValue("headers", $$"""{"{{DeliveryVerifier.VersionHeader}}":"{{version}}"}""");
            if (!enqueue) write.Parameters.AddWithValue("partition", OutboxPartitioner.PartitionOf(key, settings.Partitions));
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The write scenario's figures: business transactions a second with a plain insert and with outbox.enqueue.</summary>
internal sealed record WriteResult(int Clients, int Seconds, double InsertTps, double EnqueueTps) : BenchResult(BenchScenarios.Write)
{
    public double Ratio => InsertTps > 0 ? EnqueueTps / InsertTps : 0;

    public override bool Correct => EnqueueTps > 0 && InsertTps > 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=write clients={Clients} seconds={Seconds} insert_tps={InsertTps:0} enqueue_tps={EnqueueTps:0} ratio={Ratio:0.00}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("clients / seconds", Invariant($"{Clients} / {Seconds} s, alternating phases")),
        ("plain insert", Invariant($"{InsertTps:0} tx/s")),
        ("outbox.enqueue", Invariant($"{EnqueueTps:0} tx/s")),
        ("ratio (target >= 0.9)", Invariant($"{Ratio:0.00}")),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
