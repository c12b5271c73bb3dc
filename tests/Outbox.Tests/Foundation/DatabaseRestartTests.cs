using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Foundation;

/// <summary>The database goes away under a running silo and comes back: the silo recovers by itself.</summary>
public sealed class DatabaseRestartTests : PrivateServerTestBase
{
    [Fact]
    public async Task ASiloRecoversByItselfWhenPostgreSqlRestarts()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        var before = await Preload.EventsAsync(Db, topic, keys: 20, versionsPerKey: 5);
        var missingBefore = await verifier.WaitForAsync(before, TimeSpan.FromSeconds(20));
        Assert.True(missingBefore == 0, $"{missingBefore} events written before the restart were not published");

        await Server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // the relay's pool and LISTEN connection fail meanwhile
        await Server.StartAsync();
        Db.DataSource.Clear(); // the test's own business pool; the silo must cope without help

        // Written after the restart: only a relay that reconnected (pool and LISTEN) publishes these.
        var after = await Preload.EventsAsync(Db, topic, keys: 20, versionsPerKey: 5, keyPrefix: "after");
        var missingAfter = await verifier.WaitForAsync(after, TimeSpan.FromSeconds(30));
        Assert.True(missingAfter == 0, $"{missingAfter} events written after the restart were not published");
        Assert.Equal(0, verifier.OutOfOrder);
        await Eventually.TrueAsync(async () => await Db.ScalarAsync("select count(*) from outbox.messages") == 0,
            TimeSpan.FromSeconds(15), "the relay removes what it published after the restart");
    }
}
