using System.Globalization;
using System.Text;
using Npgsql;
using Outbox.Contracts;
using Outbox.Inbox.Schema;
using Outbox.Tests.Cluster;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Inbox;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Inbox;

/// <summary>
/// Both ends of the pipe under faults: writers commit order events through the outbox, two relay silos publish
/// them, two consuming services apply them through the inbox to a ledger in their own database, and meanwhile silos
/// and consumers are SIGKILLed and restarted in a loop and PostgreSQL (holding both databases) is restarted. Every
/// committed event's effect must be in the ledger exactly once, in each key's order.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class InboxEndToEndTests(ITestOutputHelper output) : PrivateServerTestBase
{
    private const int Keys = 40;

    [Fact]
    public async Task EachCommittedEventsEffectIsAppliedOnceInKeyOrderWhileSilosConsumersAndPostgreSqlAreKilled()
    {
        var topic = Kafka.CreateTopic("ledger", partitions: 6);
        var ledgerConnection = await LocalEnvironment.RecreateDatabaseAsync(Server.ConnectionString, "ledger", CancellationToken.None);
        await using var ledger = NpgsqlDataSource.Create(ledgerConnection);
        await new InboxMigrator(ledger).MigrateAsync();
        await LedgerHandler.CreateTablesAsync(ledger, CancellationToken.None);
        await using (var orders = Db.DataSource.CreateCommand(
            $"create table orders (id text primary key, version bigint not null default 0); insert into orders (id) select 'order-' || g from generate_series(1, {Keys}) g"))
            await orders.ExecuteNonQueryAsync();

        using var published = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silos = new SiloCluster(Db, Kafka, output);
        await silos.StartAsync("silo-1", "silo-2");
        var consumers = new Dictionary<string, SiloProcess>();
        try
        {
            foreach (var name in new[] { "consumer-1", "consumer-2" }) consumers[name] = StartConsumer(name, ledgerConnection, topic, silos);
            using var stopWriting = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => WriteAsync(w, topic, stopWriting.Token)).ToArray();

            // 30 s of chaos: every 2-4 s a consumer or a silo is SIGKILLed and restarted a moment later; PostgreSQL restarts once.
            var random = new Random(18);
            var chaosUntil = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            var restartedDatabase = false;
            var kills = 0;
            while (DateTime.UtcNow < chaosUntil)
            {
                await Task.Delay(random.Next(2000, 4000));
                if (!restartedDatabase && DateTime.UtcNow > chaosUntil - TimeSpan.FromSeconds(18))
                {
                    restartedDatabase = true;
                    await Server.StopAsync();
                    silos.Write("chaos: PostgreSQL stopped");
                    await Task.Delay(3000);
                    await Server.StartAsync();
                    silos.Write("chaos: PostgreSQL started");
                    continue;
                }
                kills++;
                if (kills % 3 == 0)
                {
                    var silo = random.Next(2) == 0 ? "silo-1" : "silo-2";
                    silos[silo].Process.Kill();
                    silos.Write($"chaos: killed {silo}");
                    await Task.Delay(random.Next(500, 1500));
                    await silos.LaunchAsync(silo);
                }
                else
                {
                    var consumer = random.Next(2) == 0 ? "consumer-1" : "consumer-2";
                    consumers[consumer].Kill();
                    silos.Write($"chaos: killed {consumer}");
                    await consumers[consumer].DisposeAsync();
                    await Task.Delay(random.Next(200, 1500));
                    consumers[consumer] = StartConsumer(consumer, ledgerConnection, topic, silos);
                }
            }
            await stopWriting.CancelAsync();
            await Task.WhenAll(writers);
            Db.DataSource.Clear();
            ledger.Clear(); // both pools saw the restart; a test polls with fresh connections

            var committed = await Db.ScalarAsync("select sum(version) from orders");
            long applied = 0;
            await Eventually.TrueAsync(async () => (applied = await LedgerCheck.AppliedAsync(ledger, CancellationToken.None)) >= committed,
                TimeSpan.FromSeconds(180), $"the consumers apply every committed event ({committed})");
            await Task.Delay(2000); // anything applied twice would show now
            var check = await LedgerCheck.RunAsync(Db.DataSource, ledger, CancellationToken.None);
            silos.Write($"inbox end to end: {kills} kills and a PostgreSQL restart in 30 s; {check}; " +
                        $"copies the relay published={published.Duplicates} (each absorbed, with every copy a killed consumer had not committed)");
            Assert.True(check.ExactlyOnceInOrder, check.ToString());
            Assert.Equal(committed, check.Committed);
        }
        finally
        {
            foreach (var consumer in consumers.Values)
            {
                consumer.Kill();
                await consumer.DisposeAsync();
            }
            NpgsqlConnection.ClearAllPools();
        }
    }

    private SiloProcess StartConsumer(string name, string connectionString, string topic, SiloCluster log) =>
        SiloProcess.StartTool(name, "consume", new Dictionary<string, string>
        {
            ["Inbox:ConnectionString"] = connectionString,
            ["Inbox:BootstrapServers"] = Kafka.BootstrapServers,
            ["Inbox:GroupId"] = "ledger",
            ["Inbox:Topics:0"] = topic,
            ["Inbox:MaxPoolSize"] = "4",
            ["Inbox:RetryDelay"] = "00:00:00.100",
            ["Inbox:MaxRetryDelay"] = "00:00:01",
            ["Inbox:CommitInterval"] = "00:00:00.200",
            ["Inbox:Kafka:session.timeout.ms"] = "6000",
            ["Inbox:Kafka:heartbeat.interval.ms"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Outbox.Inbox"] = "Information",
        }, log.Write);

    /// <summary>
    /// One writer: bumps a random order's version and enqueues its event in one transaction, until told to stop. A
    /// transaction cut by the database restart may or may not have committed; the orders table says which, so the
    /// check reads it rather than counting here.
    /// </summary>
    private async Task WriteAsync(int writer, string topic, CancellationToken stop)
    {
        var random = new Random(writer);
        while (!stop.IsCancellationRequested)
        {
            var key = "order-" + random.Next(1, Keys + 1).ToString(CultureInfo.InvariantCulture);
            try
            {
                await using var connection = await Db.DataSource.OpenConnectionAsync(CancellationToken.None);
                await using var tx = await connection.BeginTransactionAsync(CancellationToken.None);
                await using var update = new NpgsqlCommand("update orders set version = version + 1 where id = $1 returning version", connection, tx)
                {
                    Parameters = { new() { Value = key } },
                };
                var version = (long)(await update.ExecuteScalarAsync(CancellationToken.None))!;
                await tx.EnqueueAsync(new OutboxMessage(topic, key, Encoding.UTF8.GetBytes($$"""{"order":"{{key}}","version":{{version}}}"""))
                {
                    EventType = "order-changed",
                    Headers = new Dictionary<string, string> { [DeliveryVerifier.VersionHeader] = version.ToString(CultureInfo.InvariantCulture) },
                }, CancellationToken.None);
                await tx.CommitAsync(CancellationToken.None);
                await Task.Delay(random.Next(10, 30), CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                await Task.Delay(200, CancellationToken.None); // the database is restarting
            }
        }
    }
}
