using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Outbox.Contracts;
using Outbox.Tools.Verification;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the business transaction pays for the outbox: the same transaction (bump an order, write its event, commit) with
/// a plain INSERT into a table of the outbox's shape, with the C# enqueue (<see cref="OutboxWriter"/>), and with
/// <c>outbox.enqueue</c> called from SQL, in alternating phases of one run so all three meet the same machine. No relay
/// runs meanwhile: this measures the writers' side alone, with enough clients to keep both cores busy.
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
            // Plain, C#, plain, SQL, ...: each enqueue phase sits next to a plain one, so a change of the machine's load
            // meets both sides of each ratio.
            WriteVariant[] cycle = [WriteVariant.Plain, WriteVariant.CSharp, WriteVariant.Plain, WriteVariant.Sql];
            var phase = TimeSpan.FromSeconds(Math.Max(1.0, settings.WriteSeconds / 12.0));
            var totals = Enum.GetValues<WriteVariant>().ToDictionary(v => v, _ => (Commits: 0L, Seconds: 0.0));
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; Stopwatch.GetElapsedTime(started).TotalSeconds < settings.WriteSeconds || i % cycle.Length != 0; i++)
            {
                var variant = cycle[i % cycle.Length];
                var (commits, seconds) = await RunPhaseAsync(connections, variant, phase, settings, cancellationToken).ConfigureAwait(false);
                totals[variant] = (totals[variant].Commits + commits, totals[variant].Seconds + seconds);
            }
            await using (var reset = environment.DataSource.CreateCommand(BenchSql.ResetMessages))
                await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            double Tps(WriteVariant v) => totals[v].Commits / Math.Max(totals[v].Seconds, 0.001);
            return new WriteResult(settings.WriteClients, settings.WriteSeconds, Tps(WriteVariant.Plain), Tps(WriteVariant.CSharp), Tps(WriteVariant.Sql));
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Every client commits business transactions of one variant for <paramref name="length"/>.</summary>
    private static async Task<(long Commits, double Seconds)> RunPhaseAsync(NpgsqlConnection[] connections, WriteVariant variant, TimeSpan length,
        BenchSettings settings, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var counts = await Task.WhenAll(connections.Select((connection, client) => Task.Run(async () =>
        {
            var random = new Random(client * 7919 + Environment.TickCount);
            long commits = 0;
            while (Stopwatch.GetElapsedTime(started) < length && !cancellationToken.IsCancellationRequested)
            {
                await WriteOneAsync(connection, variant, random, settings, cancellationToken).ConfigureAwait(false);
                commits++;
            }
            return commits;
        }, cancellationToken))).ConfigureAwait(false);
        return (counts.Sum(), Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static async Task WriteOneAsync(NpgsqlConnection connection, WriteVariant variant, Random random, BenchSettings settings,
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
        var payload = Encoding.UTF8.GetBytes($$"""{"order":"{{key}}","version":{{version}}}""");
        var versionText = version.ToString(CultureInfo.InvariantCulture);
        if (variant == WriteVariant.CSharp)
        {
            await tx.EnqueueAsync(new OutboxMessage(Topic, key, payload)
            {
                EventType = "order-changed",
                Headers = new Dictionary<string, string> { [DeliveryVerifier.VersionHeader] = versionText },
            }, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await using var write = new NpgsqlCommand(variant == WriteVariant.Sql ? BenchSql.WriteEnqueue : BenchSql.WritePlain, connection, tx);
            write.Parameters.AddWithValue("topic", Topic);
            write.Parameters.AddWithValue("key", key);
            write.Parameters.AddWithValue("payload", payload);
            write.Parameters.AddWithValue("headers", $$"""{"{{DeliveryVerifier.VersionHeader}}":"{{versionText}}"}""");
            if (variant == WriteVariant.Plain) write.Parameters.AddWithValue("partition", OutboxPartitioner.PartitionOf(key, settings.Partitions));
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>How the write scenario's transaction writes its event.</summary>
internal enum WriteVariant
{
    /// <summary>A plain INSERT into a table of the outbox's shape (bench_plain_messages), partition computed in C#.</summary>
    Plain,

    /// <summary><see cref="OutboxWriter.EnqueueAsync(NpgsqlTransaction, OutboxMessage, CancellationToken)"/>.</summary>
    CSharp,

    /// <summary><c>select outbox.enqueue(...)</c>.</summary>
    Sql,
}

/// <summary>The write scenario's figures: business transactions a second with a plain insert, the C# enqueue and outbox.enqueue.</summary>
internal sealed record WriteResult(int Clients, int Seconds, double InsertTps, double CSharpTps, double SqlTps) : BenchResult(BenchScenarios.Write)
{
    public const double RatioTarget = 0.95;

    public double CSharpRatio => InsertTps > 0 ? CSharpTps / InsertTps : 0;

    public double SqlRatio => InsertTps > 0 ? SqlTps / InsertTps : 0;

    public override bool Correct => InsertTps > 0 && CSharpTps > 0 && SqlTps > 0;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=write clients={Clients} seconds={Seconds} insert_tps={InsertTps:0} csharp_tps={CSharpTps:0} csharp_ratio={Target.AtLeast(CSharpRatio, RatioTarget)} sql_tps={SqlTps:0} sql_ratio={Target.AtLeast(SqlRatio, RatioTarget)}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("clients / seconds", Invariant($"{Clients} / {Seconds} s, alternating phases")),
        ("plain insert", Invariant($"{InsertTps:0} tx/s")),
        ("C# enqueue (OutboxWriter)", Invariant($"{CSharpTps:0} tx/s, ratio {CSharpRatio:0.00} (target >= 0.95)")),
        ("outbox.enqueue from SQL", Invariant($"{SqlTps:0} tx/s, ratio {SqlRatio:0.00} (target >= 0.95)")),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
