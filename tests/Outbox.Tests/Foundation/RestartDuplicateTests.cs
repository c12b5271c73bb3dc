using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Foundation;

/// <summary>
/// PostgreSQL restarts while one silo drains a backlog. A batch Kafka acknowledged but whose removal failed is
/// removed again by its still-current owner, not read and published again: a single silo publishes no duplicate.
/// </summary>
public sealed class RestartDuplicateTests : PrivateServerTestBase
{
    [Fact]
    public async Task ASingleSiloPublishesNoDuplicateAcrossDatabaseRestartsMidDrain()
    {
        var topic = Kafka.CreateTopic();
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var events = await Preload.EventsAsync(Db, topic, keys: 400, versionsPerKey: 100);
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string>
        {
            ["Relay:BatchSize"] = "50",
            // Keep the drain going long enough for two restarts to land in the middle of it.
            ["Kafka:LingerMs"] = "20",
        });

        for (var restart = 0; restart < 2; restart++)
        {
            var target = events.Length * (restart + 1) / 4;
            await Eventually.TrueAsync(() => Task.FromResult(verifier.Distinct >= target), TimeSpan.FromSeconds(60),
                $"the silo publishes {target} events before restart {restart + 1}");
            await Server.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            await Server.StartAsync();
        }
        Db.DataSource.Clear();

        var missing = await verifier.WaitForAsync(events, TimeSpan.FromSeconds(120));
        Assert.True(missing == 0, $"{missing} events were not published");
        await Task.Delay(TimeSpan.FromSeconds(2)); // any late re-publish would arrive meanwhile
        Assert.True(verifier.Duplicates == 0, $"{verifier.Duplicates} duplicates after two database restarts (single silo)");
        Assert.Equal(0, verifier.OutOfOrder);
    }
}
