using Npgsql;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Foundation;

/// <summary>The normal path: what commits is published once, in key order; what rolls back never is.</summary>
public sealed class EndToEndDeliveryTests : RelayTestBase
{
    [Fact]
    public async Task CommittedMessagesArePublishedExactlyOnceAndRolledBackOnesNever()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var workload = new OrderWorkload(Db.DataSource, topic, keys: 50, rollbackRatio: 0.2);
        await workload.CreateTablesAsync(CancellationToken.None);

        await workload.RunAsync(events: 1500, ratePerSecond: 1000, writers: 6, CancellationToken.None);

        var missing = await verifier.WaitForAsync(workload.Committed.Keys.ToArray(), TimeSpan.FromSeconds(30));
        await Task.Delay(1000); // time for anything wrongly published to show up
        Assert.Equal(0, missing);
        Assert.NotEmpty(workload.RolledBack);
        Assert.DoesNotContain(workload.RolledBack, verifier.HasSeen);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(workload.Committed.Count, verifier.Distinct);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(10), "published rows are removed from the outbox");
    }

    [Fact]
    public async Task ATransactionThatCommitsLateIsNotSkipped()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        // Transaction A takes the lower ids first but commits last; B (higher ids; 20 keys each, so they share partitions) commits first
        // and is published. A relay that advanced a high-water mark past B would skip A forever.
        await using var connection = await Db.DataSource.OpenConnectionAsync();
        await using var late = await connection.BeginTransactionAsync();
        var lateMessages = Enumerable.Range(0, 20).Select(i => Enqueue.Event(topic, $"key-{i}", 1)).ToArray();
        await Outbox.Contracts.OutboxWriter.EnqueueAsync(late, lateMessages);

        var early = await Enqueue.CommitAsync(Db, Enumerable.Range(0, 20).Select(i => Enqueue.Event(topic, $"other-{i}", 1)).ToArray());
        Assert.Equal(0, await verifier.WaitForAsync(early, TimeSpan.FromSeconds(20)));
        // B's rows are published and gone; A's rows (lower ids) are not even visible yet.
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(10), "B's rows are removed while A's stay invisible");

        await late.CommitAsync();
        Assert.Equal(0, await verifier.WaitForAsync(lateMessages.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task PerKeyOrderHoldsAcrossManyBatchesAndConcurrentWriters()
    {
        var topic = Kafka.CreateTopic();
        var writers = Enumerable.Range(0, 8).Select(async w =>
        {
            var ids = new List<Guid>();
            // Each writer owns some keys and writes them in version order, in many small transactions,
            // while other writers interleave: ids of one key are far apart and cross batch boundaries.
            for (var version = 1; version <= 40; version++)
            {
                var batch = Enumerable.Range(0, 5).Select(k => Enqueue.Event(topic, $"w{w}-k{k}", version)).ToArray();
                ids.AddRange(await Enqueue.CommitAsync(Db, batch));
            }
            return ids;
        }).ToArray();
        var all = (await Task.WhenAll(writers)).SelectMany(x => x).ToArray();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string> { ["Relay:BatchSize"] = "7" });

        Assert.Equal(0, await verifier.WaitForAsync(all, TimeSpan.FromSeconds(60)));
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(0, verifier.Duplicates);
    }

    [Fact]
    public async Task KafkaMessagesCarryKeyAndOutboxHeaders()
    {
        var topic = Kafka.CreateTopic(partitions: 1);
        var message = Enqueue.Event(topic, "order-7", 3) with { EventType = "order-shipped" };
        await Enqueue.CommitAsync(Db, message);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);

        var received = await KafkaReader.ReadOneAsync(Kafka.BootstrapServers, topic, TimeSpan.FromSeconds(20));
        Assert.Equal("order-7", System.Text.Encoding.UTF8.GetString(received.Message.Key));
        var headers = KafkaReader.Headers(received.Message);
        Assert.Equal(message.EventId.ToString(), headers["outbox-event-id"]);
        Assert.Equal("order-shipped", headers["outbox-event-type"]);
        Assert.Equal("3", headers["version"]);
        Assert.True(long.TryParse(headers["outbox-sequence"], out _));
        Assert.Equal(Outbox.Contracts.OutboxPartitioner.PartitionOf("order-7", TestDatabase.Partitions).ToString(), headers["outbox-partition"]);
        Assert.True(headers.ContainsKey("outbox-created-at"));
    }
}
