using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>
/// A silo in exactly-once mode, end to end, checked by an independent read-committed consumer: every committed
/// row once and in key order, nothing from rolled-back business transactions, nothing published twice when the
/// silo is killed between Kafka's commit and the database delete.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class ExactlyOnceSiloTests(ITestOutputHelper output) : RelayTestBase
{
    [Fact]
    public async Task InExactlyOnceModeEveryCommittedRowArrivesOnceInKeyOrderAndRolledBackOnesNever()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: ExactlyOnceSettings());
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 50, rollbackRatio: 0.2);
        await workload.CreateTablesAsync(CancellationToken.None);

        await workload.RunAsync(events: 1500, ratePerSecond: 1000, writers: 6, CancellationToken.None);

        Assert.Equal(0, await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(60)));
        await Task.Delay(1000); // time for anything wrongly published to show up
        Assert.NotEmpty(workload.RolledBack);
        Assert.DoesNotContain(workload.RolledBack, verifier.HasSeen);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(10), "published rows are removed from the outbox");
    }

    [Fact]
    public async Task ASiloKilledAfterKafkaCommittedAndBeforeTheDeletePublishesNothingTwice()
    {
        const int batchSize = 50;
        var topic = Kafka.CreateTopic();
        var ids = await Preload.EventsAsync(Db, topic, keys: 200, versionsPerKey: 10);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var configuration = TestSilo.Configuration(Db, Kafka, "victim", ExactlyOnceSilo.Settings(Kafka, batchSize));
        configuration["Urls"] = $"http://127.0.0.1:{LocalEnvironment.FreePort()}";

        // The victim takes every partition while they are paused, so nothing is published before the trap is set.
        await ExactlyOnceSilo.PauseAllAsync(Db);
        await using var victim = SiloProcess.Start("victim", configuration, output.WriteLine);
        await using var trap = await Db.DataSource.OpenConnectionAsync();
        await using var locks = await ExactlyOnceSilo.CommitFirstBatchesButHoldTheirDeletesAsync(Db, trap, "victim", verifier, batchSize);

        victim.Kill();
        await victim.WaitForExitAsync(CancellationToken.None);
        // A killed process's connections die with it; its delete, still waiting for the lock, dies too.
        await Db.ScalarAsync("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'outbox-relay' and datname = current_database()");
        await locks.RollbackAsync();
        Assert.Equal(ids.Length, await Db.ScalarAsync("select count(*) from outbox.messages"));
        Assert.Equal(TestDatabase.Partitions * batchSize, verifier.Distinct);

        configuration["Cluster:SiloName"] = "successor";
        await using var successor = SiloProcess.Start("successor", configuration, output.WriteLine);

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(90)));
        await Task.Delay(1000);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(20), "the successor empties the outbox");
    }

    private Dictionary<string, string> ExactlyOnceSettings() => ExactlyOnceSilo.Settings(Kafka);
}

/// <summary>Silo configuration for exactly-once mode.</summary>
public static class ExactlyOnceSilo
{
    /// <summary>Exactly-once mode with a progress topic of the test's own (the mock cluster cannot create topics through the admin API).</summary>
    public static Dictionary<string, string> Settings(TestKafka kafka, int? batchSize = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Relay:Delivery"] = "ExactlyOnce",
            ["ExactlyOnce:ProgressTopic"] = kafka.CreateTopic("progress", TestDatabase.Partitions),
            ["ExactlyOnce:TransactionalIdPrefix"] = "test-" + Guid.NewGuid().ToString("N")[..8],
            ["ExactlyOnce:TransactionTimeout"] = "00:00:20",
            // The crash tests hold every partition's delete on a row lock, and a waiting delete holds its connection:
            // the pool must outnumber the partitions, or the reads of the last ones wait for a connection.
            ["Outbox:MaxPoolSize"] = (TestDatabase.Partitions + 8).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (batchSize is { } size) settings["Relay:BatchSize"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>
    /// Sets the trap for "Kafka committed, the delete did not happen": with every partition owned by
    /// <paramref name="owner"/> but paused, locks every row (reads go on, deletes wait), then lets the partitions
    /// drain, so each commits its first batch to Kafka and waits on its delete. Returns the open transaction holding the locks.
    /// </summary>
    public static async Task<Npgsql.NpgsqlTransaction> CommitFirstBatchesButHoldTheirDeletesAsync(TestDatabase db, Npgsql.NpgsqlConnection trap, string owner,
        DeliveryVerifier verifier, int batchSize)
    {
        await Eventually.TrueAsync(async () => await db.ScalarAsync($"select count(*) from outbox.partitions where owner = '{owner}'") == TestDatabase.Partitions,
            TimeSpan.FromSeconds(120), "the silo activates every partition");
        var locks = await trap.BeginTransactionAsync();
        await using (var lockRows = new Npgsql.NpgsqlCommand("select count(*) from (select 1 from outbox.messages for key share) l", trap, locks))
            await lockRows.ExecuteScalarAsync();
        await db.ScalarAsync("with p as (update outbox.partitions set paused = false returning 1) select count(*) from p");
        // 64 transactional producers initialise first (a broker round trip each, fenced in turn): slow on a loaded machine.
        await Eventually.TrueAsync(() => Task.FromResult(verifier.Distinct == TestDatabase.Partitions * batchSize), TimeSpan.FromSeconds(120),
            "every partition commits its first batch to Kafka");
        return locks;
    }

    public static Task PauseAllAsync(TestDatabase db) =>
        db.ScalarAsync("with p as (update outbox.partitions set paused = true returning 1) select count(*) from p");
}
