using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Outbox.Inbox;
using Outbox.Inbox.Consuming;
using Outbox.Inbox.Schema;
using Outbox.Tools.Inbox;

namespace Outbox.Tools.Bench;

/// <summary>
/// What the inbox costs a consumer: the ledger's events (preloaded in Kafka) applied by the inbox consumer, against
/// the same handler run by a plain consumer of the same shape (one worker per partition, batches of the same size in
/// one transaction each, offsets committed after the database) without the inbox's records and checks. Both read the
/// topic from its start in a group of their own; the ratio is inbox / plain, target at least 0.5. The inbox's run must
/// apply every event exactly once and in key order.
/// </summary>
internal sealed class InboxScenario : IBenchScenario
{
    private const string Topic = "bench-inbox";
    private const int BatchSize = 100;

    public string Name => BenchScenarios.Inbox;

    public async Task<BenchResult> RunAsync(BenchEnvironment environment, IReadOnlyList<BenchResult> earlier, CancellationToken cancellationToken)
    {
        var settings = environment.Settings;
        var events = settings.InboxEvents;
        var keys = Math.Min(settings.Keys, events / 10);
        environment.CreateTopic(Topic);
        await new InboxMigrator(environment.DataSource).MigrateAsync(cancellationToken).ConfigureAwait(false);
        await LedgerHandler.CreateTablesAsync(environment.DataSource, cancellationToken).ConfigureAwait(false);
        var published = LedgerEvents.Create(keys, events / keys);
        await LedgerEvents.ProduceAsync(environment.BootstrapServers, Topic, published).ConfigureAwait(false);

        await ResetLedgerAsync(environment.DataSource, cancellationToken).ConfigureAwait(false);
        var plain = await MeasureAsync(environment, published.Count, token => PlainConsumeAsync(environment, token), cancellationToken).ConfigureAwait(false);
        await ResetLedgerAsync(environment.DataSource, cancellationToken).ConfigureAwait(false);
        var inbox = await MeasureAsync(environment, published.Count, token => InboxConsumeAsync(environment, token), cancellationToken).ConfigureAwait(false);
        await using (var orders = environment.DataSource.CreateCommand("""
            create table if not exists orders (id text primary key, version bigint not null default 0);
            truncate orders;
            insert into orders (id, version) select distinct on (key) key, version from ledger_entries order by key, version desc;
            """))
            await orders.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        var check = await LedgerCheck.RunAsync(environment.DataSource, environment.DataSource, cancellationToken).ConfigureAwait(false);
        return new InboxResult(published.Count, settings.TopicPartitions, published.Count / plain, published.Count / inbox,
            check.Applied == published.Count && check.ExactlyOnceInOrder);
    }

    /// <summary>Runs a consumer until the ledger holds <paramref name="events"/> entries; returns the seconds it took.</summary>
    private static async Task<double> MeasureAsync(BenchEnvironment environment, int events, Func<CancellationToken, Task> consume,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var running = consume(stop.Token);
        while (await LedgerCheck.AppliedAsync(environment.DataSource, cancellationToken).ConfigureAwait(false) < events)
        {
            if (running.IsFaulted) await running.ConfigureAwait(false);
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await stop.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return seconds;
    }

    private static async Task InboxConsumeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        using var host = ConsumerHost.Build([], new Dictionary<string, string?>
        {
            ["Inbox:ConnectionString"] = environment.ConnectionString,
            ["Inbox:BootstrapServers"] = environment.BootstrapServers,
            ["Inbox:GroupId"] = "bench-inbox-" + Guid.NewGuid().ToString("N")[..8],
            ["Inbox:Topics:0"] = Topic,
            ["Inbox:MaxBatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            ["Inbox:MaxPoolSize"] = environment.Settings.PoolSize.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The baseline: the same handler, batching and commit discipline, with nothing recorded or checked.</summary>
    private static async Task PlainConsumeAsync(BenchEnvironment environment, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(environment.ConnectionString)
        {
            MaxPoolSize = environment.Settings.PoolSize,
        }.ConnectionString);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = environment.BootstrapServers,
            GroupId = "bench-plain-" + Guid.NewGuid().ToString("N")[..8],
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            EnableAutoOffsetStore = false,
        }).Build();
        consumer.Subscribe(Topic);
        var queues = new Dictionary<int, Channel<ConsumeResult<byte[], byte[]>>>();
        var workers = new List<Task>();
        await Task.Run(() =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(50));
                if (result?.Message is null) continue;
                if (!queues.TryGetValue(result.Partition.Value, out var queue))
                {
                    queues[result.Partition.Value] = queue = Channel.CreateUnbounded<ConsumeResult<byte[], byte[]>>();
                    workers.Add(ApplyPartitionAsync(dataSource, consumer, queue.Reader, cancellationToken));
                }
                queue.Writer.TryWrite(result);
            }
        }, CancellationToken.None).ConfigureAwait(false);
        await Task.WhenAll(workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        consumer.Close();
    }

    private static async Task ApplyPartitionAsync(NpgsqlDataSource dataSource, IConsumer<byte[], byte[]> consumer,
        ChannelReader<ConsumeResult<byte[], byte[]>> queue, CancellationToken cancellationToken)
    {
        var batch = new List<ConsumeResult<byte[], byte[]>>(BatchSize);
        while (await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (batch.Count < BatchSize && queue.TryRead(out var result)) batch.Add(result);
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
            await using (var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var result in batch) await LedgerHandler.ApplyAsync(EventHeaders.Read(result), tx, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            consumer.StoreOffset(batch[^1]);
            batch.Clear();
        }
    }

    private static async Task ResetLedgerAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var reset = dataSource.CreateCommand("truncate ledger, ledger_entries; truncate inbox.received");
        await reset.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The inbox scenario's figures.</summary>
internal sealed record InboxResult(int Events, int Partitions, double PlainRate, double InboxRate, bool ExactlyOnceInOrder) : BenchResult(BenchScenarios.Inbox)
{
    public double Ratio => InboxRate / PlainRate;

    public override bool Correct => ExactlyOnceInOrder;

    public override string Line => string.Create(CultureInfo.InvariantCulture,
        $"bench: scenario=inbox events={Events} partitions={Partitions} plain_per_s={PlainRate:0} inbox_per_s={InboxRate:0} ratio={Ratio:0.00} target=0.50 exactly_once_in_order={ExactlyOnceInOrder}");

    public override IEnumerable<(string Figure, string Value)> Figures =>
    [
        ("events consumed (each run)", Invariant($"{Events} over {Partitions} partitions")),
        ("plain consumer (no inbox)", Invariant($"{PlainRate:0} events/s")),
        ("inbox consumer", Invariant($"{InboxRate:0} events/s")),
        ("ratio inbox / plain (target >= 0.5)", Invariant($"{Ratio:0.00}")),
        ("applied exactly once, in key order", ExactlyOnceInOrder ? "yes" : "NO"),
    ];

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
