using Outbox.Inbox.Schema;
using Outbox.Tests.Cluster;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Inbox;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Inbox;

/// <summary>
/// A consuming service frozen (SIGSTOP) in the middle of its batches until the group gives its partitions to another
/// member, then resumed: a zombie that still holds open transactions and read-ahead events. The inbox's primary key
/// serialises it with the new owner, so nothing is applied twice and each key keeps its order.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class InboxZombieTests(ITestOutputHelper output) : RelayTestBase
{
    [Fact]
    public async Task AFrozenConsumerWhosePartitionsMovedOnDoublesNothingWhenItWakesUp()
    {
        var topic = Kafka.CreateTopic("zombie", partitions: 6);
        await new InboxMigrator(Db.DataSource).MigrateAsync();
        await LedgerHandler.CreateTablesAsync(Db.DataSource, CancellationToken.None);
        var events = LedgerEvents.Create(keys: 60, versions: 40);
        await LedgerEvents.ProduceAsync(Kafka.BootstrapServers, topic, events);

        await using var first = Start("consumer-1", topic);
        await Eventually.TrueAsync(async () => await LedgerCheck.AppliedAsync(Db.DataSource, CancellationToken.None) > 200, TimeSpan.FromSeconds(90),
            "the first consumer applies events");
        await using var second = Start("consumer-2", topic);
        await Eventually.TrueAsync(async () => await LedgerCheck.AppliedAsync(Db.DataSource, CancellationToken.None) > 600, TimeSpan.FromSeconds(90),
            "both consumers apply events");
        first.Freeze();
        Write("consumer-1 frozen (SIGSTOP)");
        await Task.Delay(TimeSpan.FromSeconds(12)); // past its session timeout: the group moves its partitions to consumer-2
        first.Resume();
        Write("consumer-1 resumed");

        long applied = 0;
        await Eventually.TrueAsync(async () => (applied = await LedgerCheck.AppliedAsync(Db.DataSource, CancellationToken.None)) >= events.Count,
            TimeSpan.FromSeconds(180), $"every event applied ({applied} of {events.Count})");
        await Task.Delay(2000);
        await using (var orders = Db.DataSource.CreateCommand("""
            create table orders (id text primary key, version bigint not null);
            insert into orders select key, max(version) from ledger_entries group by key;
            """))
            await orders.ExecuteNonQueryAsync();
        var check = await LedgerCheck.RunAsync(Db.DataSource, Db.DataSource, CancellationToken.None);
        Write($"zombie: {check}");
        Assert.True(check.ExactlyOnceInOrder && check.Applied == events.Count, check.ToString());
    }

    private SiloProcess Start(string name, string topic) => SiloProcess.StartTool(name, "consume", new Dictionary<string, string>
    {
        ["Inbox:ConnectionString"] = Db.ConnectionString,
        ["Inbox:BootstrapServers"] = Kafka.BootstrapServers,
        ["Inbox:GroupId"] = "zombie-ledger",
        ["Inbox:Topics:0"] = topic,
        ["Inbox:MaxPoolSize"] = "4",
        ["Inbox:MaxBatchSize"] = "20",
        ["Inbox:CommitInterval"] = "00:00:00.200",
        ["Inbox:Kafka:session.timeout.ms"] = "6000",
        ["Inbox:Kafka:heartbeat.interval.ms"] = "1000",
        ["Ledger:DelayMs"] = "5",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Outbox.Inbox"] = "Information",
    }, Write);

    private void Write(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test is over; a consumer being stopped has nowhere to write.
        }
    }
}
