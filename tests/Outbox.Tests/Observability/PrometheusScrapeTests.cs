using System.Globalization;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Verification;

namespace Outbox.Tests.Observability;

/// <summary>
/// Runs alone: the exporter listens to the relay's meter by name, process-wide, so another test class's silo
/// publishing at the same moment would be counted too (seen once: 3,508 counted for 30 sent).
/// </summary>
[CollectionDefinition(nameof(OnlyRelayInProcess), DisableParallelization = true)]
public sealed class OnlyRelayInProcess;

/// <summary>
/// Every silo serves its metrics at /metrics in Prometheus' text format, with no collector configured: the
/// relay's counters and histograms with the values Kafka's acknowledgements justify, its backlog gauges, and
/// Npgsql's connection-pool metrics.
/// </summary>
[Collection(nameof(OnlyRelayInProcess))]
public sealed class PrometheusScrapeTests : RelayTestBase
{
    [Fact]
    public async Task MetricsEndpointServesTheRelaysSeriesWithTheirValues()
    {
        const int messages = 30;
        var topic = Kafka.CreateTopic();
        await using var silo = await TestSilo.StartAsync(Db, Kafka, name: "silo-scraped",
            overrides: new Dictionary<string, string> { ["Telemetry:StatusPollInterval"] = "00:00:00.200" });
        using var verifier = new DeliveryVerifier(Kafka.BootstrapServers, topic);
        var ids = await Enqueue.CommitAsync(Db, Enumerable.Range(0, messages).Select(i => Enqueue.Event(topic, $"k{i % 7}", i)).ToArray());
        Assert.Equal(0, await verifier.WaitForAsync(ids, TimeSpan.FromSeconds(30)));

        // A scraper needs no admin token, as with the health probes.
        using var http = silo.Http(withToken: false);
        var scrape = "";
        await Eventually.TrueAsync(async () =>
            {
                scrape = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                return Sum(scrape, "messaging_client_sent_messages_total") >= messages;
            },
            TimeSpan.FromSeconds(15), "the published counter reaches the number of acknowledged messages");

        // At least once: every message is counted once it is acknowledged, and a re-published batch may be
        // counted again, but never more often than copies reached Kafka (what the independent consumer saw).
        foreach (var series in new[] { "messaging_client_sent_messages_total", "outbox_commit_to_ack_duration_seconds_count" })
        {
            var counted = Sum(scrape, series);
            Assert.InRange(counted, (double)messages, (double)verifier.Received);
        }
        Assert.Equal(TestDatabase.Partitions, Sum(scrape, "outbox_partitions_owned"));
        Assert.Equal(0, Sum(scrape, "outbox_backlog"));
        Assert.Contains("outbox_backlog_oldest_age_seconds{", scrape, StringComparison.Ordinal);
        Assert.Contains("outbox_parked_messages{", scrape, StringComparison.Ordinal);
        // The relay's seconds-scale buckets, not the exporter's millisecond defaults.
        Assert.Contains("outbox_commit_to_ack_duration_seconds_bucket{", scrape, StringComparison.Ordinal);
        Assert.Contains("le=\"0.005\"", scrape, StringComparison.Ordinal);
        // Npgsql's pool metrics, from Npgsql.OpenTelemetry.
        Assert.True(Sum(scrape, "db_client_connection_max") > 0, "Npgsql reports its pool size");
        // The resource names the silo, so Prometheus can join its series to the silo.
        Assert.Contains("service_instance_id=\"silo-scraped\"", scrape, StringComparison.Ordinal);
    }

    /// <summary>Sum of every sample of <paramref name="series"/> (all label sets) in a Prometheus text exposition.</summary>
    private static double Sum(string scrape, string series) => scrape.Split('\n')
        .Where(line => line.StartsWith(series + "{", StringComparison.Ordinal) || line.StartsWith(series + " ", StringComparison.Ordinal))
        .Sum(Value);

    /// <summary>A sample line is "name{labels} value [timestamp]"; label values may hold spaces, so read after the labels.</summary>
    private static double Value(string line)
    {
        var afterLabels = line.Contains('}', StringComparison.Ordinal) ? line[(line.LastIndexOf('}') + 1)..] : line[line.IndexOf(' ', StringComparison.Ordinal)..];
        return double.Parse(afterLabels.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }
}
