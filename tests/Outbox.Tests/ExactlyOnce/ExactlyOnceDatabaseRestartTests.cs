using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>PostgreSQL goes away while committed batches wait for their delete: they are removed afterwards, not published again.</summary>
public sealed class ExactlyOnceDatabaseRestartTests : PrivateServerTestBase
{
    [Fact]
    public async Task BatchesCommittedToKafkaWhoseDeleteFailedWithTheDatabaseAreRemovedNotPublishedAgain()
    {
        const int batchSize = 50;
        var topic = Kafka.CreateTopic();
        var ids = await Preload.EventsAsync(Db, topic, keys: 200, versionsPerKey: 10);
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await ExactlyOnceSilo.PauseAllAsync(Db);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: ExactlyOnceSilo.Settings(Kafka, batchSize));
        var trap = await Db.DataSource.OpenConnectionAsync();
        await ExactlyOnceSilo.CommitFirstBatchesButHoldTheirDeletesAsync(Db, trap, "test-silo", verifier, batchSize);

        // The deletes waiting for the trap fail with the server; so does the trap itself.
        await Server.StopAsync();
        try
        {
            await trap.DisposeAsync();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or InvalidOperationException)
        {
            // Broken with the server: its transaction and locks are gone already.
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        await Server.StartAsync();
        Db.DataSource.Clear();

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(90)));
        await Task.Delay(1000);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(20), "the relay empties the outbox after the restart");
    }
}
