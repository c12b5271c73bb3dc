using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Foundation;

/// <summary>Kafka away, Kafka failing requests, the relay killed: nothing is lost and every key keeps its order.</summary>
public sealed class FailureRecoveryTests : RelayTestBase
{
    [Fact]
    public async Task WhileAllBrokersAreDownRowsStayAndAreDeliveredInOrderWhenKafkaReturns()
    {
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);

        Kafka.Cluster.SetBrokerDown();
        var ids = await Preload.EventsAsync(Db, topic, keys: 40, versionsPerKey: 10);
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(0, verifier.Distinct);
        Assert.Equal(ids.Length, await Db.ScalarAsync("select count(*) from outbox.messages"));

        Kafka.Cluster.SetBrokerUp();

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(60)));
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(15), "acknowledged rows are removed once Kafka is back");
    }

    [Fact]
    public async Task ProduceRequestErrorsAreRetriedWithoutLossOrReordering()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        // Let the producer connect first, then make the next produce requests fail with retriable errors.
        var warmUp = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "warm-up", 1));
        Assert.Equal(0, await verifier.WaitForAsync(warmUp, TimeSpan.FromSeconds(20)));
        Kafka.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.Produce,
            MockKafkaCluster.Errors.NotEnoughReplicas, MockKafkaCluster.Errors.NotLeaderForPartition,
            MockKafkaCluster.Errors.RequestTimedOut, MockKafkaCluster.Errors.NotEnoughReplicas,
            MockKafkaCluster.Errors.NotEnoughReplicas, MockKafkaCluster.Errors.RequestTimedOut);

        var ids = await Preload.EventsAsync(Db, topic, keys: 30, versionsPerKey: 10);

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(60)));
        Assert.Equal(0, verifier.OutOfOrder);
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null"));
    }

    [Fact]
    public async Task ASiloKilledMidDrainLosesNothingAndDuplicatesAtMostItsInFlightBatches()
    {
        const int batchSize = 50;
        var topic = Kafka.CreateTopic();
        var ids = await Preload.EventsAsync(Db, topic, keys: 400, versionsPerKey: 25);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var configuration = TestSilo.Configuration(Db, Kafka, "victim", new Dictionary<string, string>
        {
            ["Relay:BatchSize"] = batchSize.ToString(),
            ["Urls"] = $"http://127.0.0.1:{LocalEnvironment.FreePort()}",
        });

        // Disposed on every path: a test that fails before the kill must not leave the silo running for the rest of the suite.
        await using var victim = SiloProcess.Start("victim", configuration);
        await Eventually.TrueAsync(() => Task.FromResult(verifier.Distinct > ids.Length / 5), TimeSpan.FromSeconds(60), "the silo starts draining");
        victim.Kill();
        await victim.WaitForExitAsync(CancellationToken.None);
        var left = await Db.ScalarAsync("select count(*) from outbox.messages");
        Assert.True(left > 0, "the kill must land mid-drain for this test to mean anything");

        configuration["Cluster:SiloName"] = "successor";
        await using var successor = SiloProcess.Start("successor", configuration);

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(90)));
        Assert.Equal(0, verifier.OutOfOrder);
        // Only batches in flight at the kill can be published twice: at most one per partition.
        Assert.InRange(verifier.Duplicates, 0, TestDatabase.Partitions * batchSize);
    }
}
