using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>PostgreSQL goes away while committed batches wait for their delete: they are removed afterwards, not published again.</summary>
public sealed class ExactlyOnceDatabaseRestartTests : IAsyncLifetime
{
    private readonly PrivatePostgresServer _server = new();
    private readonly TestKafka _kafka = new();
    private TestDatabase _db = null!;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        _db = new TestDatabase(_server.ConnectionString);
        await _db.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        await _server.DisposeAsync();
        _kafka.Dispose();
    }

    [Fact]
    public async Task BatchesCommittedToKafkaWhoseDeleteFailedWithTheDatabaseAreRemovedNotPublishedAgain()
    {
        const int batchSize = 50;
        var topic = _kafka.CreateTopic();
        var ids = await Preload.EventsAsync(_db, topic, keys: 200, versionsPerKey: 10);
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        await ExactlyOnceSilo.PauseAllAsync(_db);
        await using var silo = await TestSilo.StartAsync(_db, _kafka, overrides: ExactlyOnceSilo.Settings(_kafka, batchSize));
        var trap = await _db.DataSource.OpenConnectionAsync();
        await ExactlyOnceSilo.CommitFirstBatchesButHoldTheirDeletesAsync(_db, trap, "test-silo", verifier, batchSize);

        // The deletes waiting for the trap fail with the server; so does the trap itself.
        await _server.StopAsync();
        try
        {
            await trap.DisposeAsync();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or IOException or InvalidOperationException)
        {
            // Broken with the server: its transaction and locks are gone already.
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _server.StartAsync();
        _db.DataSource.Clear();

        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(90)));
        await Task.Delay(1000);
        Assert.Equal(0, verifier.Duplicates);
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await _db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(20), "the relay empties the outbox after the restart");
    }
}
