using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Observability;

/// <summary>
/// Liveness says the process serves; readiness says it can do its job. Readiness follows the database and
/// Kafka going away and coming back, and drops the moment shutdown starts; liveness stays up throughout.
/// </summary>
public sealed class HealthProbeTests : RelayTestBase
{
    private static readonly TimeSpan FlipWithin = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ReadinessFollowsTheDatabaseGoingAwayAndComingBack()
    {
        var server = new NpgsqlConnectionStringBuilder(Db.ConnectionString);
        await using var database = new LoopbackForwarder(server.Host!, server.Port);
        var throughForwarder = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { Host = "127.0.0.1", Port = database.Port, Timeout = 3 };
        await using var silo = await TestSilo.StartAsync(Db, Kafka,
            overrides: new Dictionary<string, string>
            {
                ["Outbox:ConnectionString"] = throughForwarder.ConnectionString,
                // The relays' retry warnings while the database is away are expected here; keep the test output readable.
                ["Logging:LogLevel:Outbox"] = "Error",
            });
        using var http = silo.Http(withToken: false);
        await WaitForReadinessAsync(http, ready: true, "the silo starts ready");

        await database.CutAsync();
        var down = await WaitForReadinessAsync(http, ready: false, "readiness drops without the database");
        Assert.False(down.GetProperty("database").GetBoolean());
        Assert.True(down.GetProperty("kafka").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);

        database.Open();
        var up = await WaitForReadinessAsync(http, ready: true, "readiness returns with the database");
        Assert.True(up.GetProperty("database").GetBoolean());
    }

    [Fact]
    public async Task ReadinessFollowsKafkaGoingAwayAndComingBack()
    {
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var http = silo.Http(withToken: false);
        await WaitForReadinessAsync(http, ready: true, "the silo starts ready");

        Kafka.Cluster.SetBrokerDown(-1);
        try
        {
            var down = await WaitForReadinessAsync(http, ready: false, "readiness drops without any Kafka broker");
            Assert.False(down.GetProperty("kafka").GetBoolean());
            Assert.True(down.GetProperty("database").GetBoolean());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            Kafka.Cluster.SetBrokerUp(-1);
        }
        var up = await WaitForReadinessAsync(http, ready: true, "readiness returns with the brokers");
        Assert.True(up.GetProperty("kafka").GetBoolean());
    }

    [Fact]
    public async Task ReadinessDropsTheMomentShutdownStarts()
    {
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var http = silo.Http(withToken: false);
        await WaitForReadinessAsync(http, ready: true, "the silo starts ready");
        // A fresh, cached "ready" must not outlive the start of shutdown.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        silo.Get<IHostApplicationLifetime>().StopApplication();

        var response = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(body.GetProperty("shuttingDown").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task ReadinessAnswersNotReadyWhileTheSiloDrainsItsInFlightBatch()
    {
        var topic = Kafka.CreateTopic(partitions: 1);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);
        using var http = silo.Http(withToken: false);
        await WaitForReadinessAsync(http, ready: true, "the silo starts ready");
        // Slow acknowledgements keep a batch in flight long enough to watch the drain.
        for (var broker = 1; broker <= Kafka.Cluster.BrokerCount; broker++) Kafka.Cluster.SetBrokerRtt(broker, 3000);
        var ids = await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "k", 1));
        await Task.Delay(1000);

        // What SIGTERM does in a running silo: signal stopping, then stop the host.
        silo.Get<IHostApplicationLifetime>().StopApplication();
        var stopping = silo.Get<IHost>().StopAsync();
        var answeredDuringDrain = 0;
        while (!stopping.IsCompleted)
        {
            try
            {
                using var response = await http.GetAsync("/health/ready");
                var text = await response.Content.ReadAsStringAsync();
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("shuttingDown").GetBoolean(), text);
                if (!stopping.IsCompleted) answeredDuringDrain++;
            }
            catch (HttpRequestException)
            {
                break; // the server closed: the drain is over
            }
            await Task.Delay(100);
        }
        await stopping;
        for (var broker = 1; broker <= Kafka.Cluster.BrokerCount; broker++) Kafka.Cluster.SetBrokerRtt(broker, 0);

        Assert.True(answeredDuringDrain > 3, $"readiness answered {answeredDuringDrain} times during the drain");
        Assert.Equal(0, await Db.ScalarAsync("select count(*) from outbox.messages")); // the in-flight batch was completed
        var received = await KafkaReader.ReadOneAsync(Kafka.BootstrapServers, topic, TimeSpan.FromSeconds(20));
        Assert.Equal(ids[0].ToString(), KafkaReader.Headers(received.Message)["outbox-event-id"]);
    }

    private static async Task<JsonElement> WaitForReadinessAsync(HttpClient http, bool ready, string because)
    {
        var expected = ready ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable;
        JsonElement body = default;
        await Eventually.TrueAsync(async () =>
        {
            using var response = await http.GetAsync("/health/ready");
            body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            return response.StatusCode == expected;
        }, FlipWithin, because);
        return body;
    }
}
