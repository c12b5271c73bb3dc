using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Foundation;

/// <summary>The database goes away under a running silo and comes back: the silo recovers by itself.</summary>
public sealed class DatabaseRestartTests : IAsyncLifetime
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
    public async Task ASiloRecoversByItselfWhenPostgreSqlRestarts()
    {
        var topic = _kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(_kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(_db, _kafka);
        var before = await Preload.EventsAsync(_db, topic, keys: 20, versionsPerKey: 5);
        var missingBefore = await verifier.WaitForAsync(before, TimeSpan.FromSeconds(20));
        Assert.True(missingBefore == 0, $"{missingBefore} events written before the restart were not published");

        await _server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // the relay's pool and LISTEN connection fail meanwhile
        await _server.StartAsync();
        _db.DataSource.Clear(); // the test's own business pool; the silo must cope without help

        // Written after the restart: only a relay that reconnected (pool and LISTEN) publishes these.
        var after = await Preload.EventsAsync(_db, topic, keys: 20, versionsPerKey: 5, keyPrefix: "after");
        var missingAfter = await verifier.WaitForAsync(after, TimeSpan.FromSeconds(30));
        Assert.True(missingAfter == 0, $"{missingAfter} events written after the restart were not published");
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await _db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(15), "the relay removes what it published after the restart");
    }
}
