using System.Globalization;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;
using Xunit.Abstractions;

namespace Outbox.Tests.Operations;

/// <summary>Schedules live in the database rows, not in a silo's memory: a killed silo's successor fires them on time.</summary>
public sealed class ScheduleFailoverTests(ITestOutputHelper output) : RelayTestBase
{
    [Fact]
    public async Task SchedulesSurviveASiloKillAndFireOnTimeFromItsSuccessor()
    {
        var topic = Kafka.CreateTopic();
        var port = LocalEnvironment.FreePort();
        var configuration = TestSilo.Configuration(Db, Kafka, "silo-a");
        configuration["Urls"] = $"http://127.0.0.1:{port}";
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        await using var siloA = SiloProcess.Start("silo-a", configuration, output.WriteLine);
        await LocalEnvironment.WaitUntilReadyAsync(new Uri($"http://127.0.0.1:{port}"), TimeSpan.FromSeconds(120), CancellationToken.None);
        Assert.Equal(TestDatabase.Partitions, await Db.ScalarAsync("select count(*) from outbox.partitions where owner = 'silo-a'"));

        var start = DateTimeOffset.UtcNow.AddSeconds(20); // leaves a loaded machine time to start the successor (an Orleans silo)
        var messages = Enumerable.Range(0, 200)
            .Select(i => Enqueue.Event(topic, $"k-{i}", 1) with { DeliverAt = start.AddMilliseconds(i * 10) })
            .ToArray();
        await Enqueue.CommitAsync(Db, messages);
        await Task.Delay(500); // silo A has armed its reminders
        siloA.Kill();
        await siloA.WaitForExitAsync(CancellationToken.None);

        // The successor takes the dead silo's address (a restarted pod keeps it): Orleans then declares the old
        // generation dead as the new one joins, where a new address would first have to reach a silo nobody can.
        await using var siloB = await TestSilo.StartAsync(Db, Kafka, "silo-b",
            new Dictionary<string, string> { ["Cluster:SiloPort"] = configuration["Cluster:SiloPort"] });
        Assert.True(DateTimeOffset.UtcNow < start, "the successor started before the schedules fell due");
        var published = await PublishTimes.WaitAsync(verifier, messages.Select(m => m.EventId).ToArray(), TimeSpan.FromSeconds(30));

        var lateness = messages.Select(m => (published[m.EventId] - m.DeliverAt!.Value).TotalMilliseconds).ToArray();
        output.WriteLine("lateness after failover: " + PublishTimes.Summarize(lateness));
        Assert.All(lateness, l => Assert.True(l >= 0, string.Create(CultureInfo.InvariantCulture, $"published {-l:0} ms early")));
        Assert.True(lateness.Max() < 5000, $"fired within 5 s of their time (max {lateness.Max():0} ms)");
        Assert.Equal(TestDatabase.Partitions, await Db.ScalarAsync("select count(*) from outbox.partitions where owner = 'silo-b'"));
    }
}
