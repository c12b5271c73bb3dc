using Outbox.Tests.ExactlyOnce;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Foundation;

/// <summary>
/// PostgreSQL is killed (no checkpoint, no flush of what sits in shared memory) and restarted, again and again, while
/// writers commit 500 business transactions a second and one silo relays them. Nothing committed is lost, each key
/// stays in order, and a published row does not come back to be published again: removals are durable before the
/// next batch goes out, so the crash can only bring back the batch whose removal had not committed, which its owner
/// removes again without publishing it. In exactly-once mode a duplicate here would be a row committed in two Kafka
/// transactions, which a read-committed consumer on a real broker would see twice.
/// </summary>
public sealed class DatabaseCrashTests(ITestOutputHelper output) : PrivateServerTestBase
{
    private const int Crashes = 3;
    private const int Rate = 500;

    [Theory]
    [InlineData("AtLeastOnce")]
    [InlineData("ExactlyOnce")]
    public async Task KillingPostgreSqlUnderLoadLosesNothingKeepsOrderAndPublishesNoRowTwice(string delivery)
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var settings = delivery == "ExactlyOnce" ? ExactlyOnceSilo.Settings(Kafka) : new Dictionary<string, string>();
        settings["Relay:BatchSize"] = "100";
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: settings);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 200, rollbackRatio: 0.05);
        await workload.CreateTablesAsync(CancellationToken.None);

        using var stop = new CancellationTokenSource();
        var writing = Task.Run(() => workload.RunAsync(int.MaxValue, Rate, writers: 8, stop.Token, tolerateFailures: true));
        for (var crash = 1; crash <= Crashes; crash++)
        {
            await Task.Delay(TimeSpan.FromSeconds(4));
            await Server.CrashAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            await Server.StartAsync();
        }
        // Time to resume: from the server taking connections again to a row committed then reaching Kafka.
        var upAgain = System.Diagnostics.Stopwatch.StartNew();
        var marker = await Enqueue.CommitWhenAcceptedAsync(Db, topic, TimeSpan.FromSeconds(30));
        Assert.Equal(0, await verifier.WaitForAsync([marker], TimeSpan.FromSeconds(60)));
        var resumed = upAgain.Elapsed;
        // Written after the last restart too: the relay carried on by itself.
        var beforeEnd = workload.CommittedCount;
        await Eventually.TrueAsync(() => Task.FromResult(workload.CommittedCount > beforeEnd + Rate), TimeSpan.FromSeconds(30),
            "the writers commit again after the last restart");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writing);

        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(90));
        await Task.Delay(TimeSpan.FromSeconds(2)); // anything published again arrives meanwhile
        output.WriteLine($"{delivery}: committed={workload.Committed.Count} unknown={workload.Unknown.Count} failed={workload.Failures} " +
                         $"received={verifier.Received} lost={missing} duplicates={verifier.Duplicates} out_of_order={verifier.OutOfOrder} " +
                         $"resumed={resumed.TotalSeconds:0.00}s");
        Assert.Equal(0, missing);
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.DoesNotContain(workload.RolledBack, verifier.HasSeen);
        Assert.Equal(0, verifier.Duplicates);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(30), "the relay empties the outbox");
    }
}
