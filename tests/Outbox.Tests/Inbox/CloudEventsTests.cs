using System.Globalization;
using Outbox.Contracts;
using Outbox.Grains.Publishing;
using Outbox.Inbox.Consuming;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Inbox;

/// <summary>The relay's opt-in CloudEvents mode (Kafka binding, binary content mode), read by an independent consumer and by the inbox.</summary>
public sealed class CloudEventsTests : RelayTestBase
{
    [Fact]
    public async Task InCloudEventsModeEveryMessageCarriesTheBinaryModeHeadersAndTheInboxReadsEitherForm()
    {
        var topic = Kafka.CreateTopic("cloudevents");
        await using var silo = await TestSilo.StartAsync(Db, Kafka, overrides: new Dictionary<string, string>
        {
            ["Kafka:CloudEvents"] = "Binary",
            ["Kafka:CloudEventsSource"] = "/orders-service",
        });
        var message = OutboxMessage.Json(topic, "order-42", """{"status":"paid"}""") with { EventType = "order-paid" };
        await Enqueue.CommitAsync(Db, message);

        var received = await KafkaReader.ReadOneAsync(Kafka.BootstrapServers, topic, TimeSpan.FromSeconds(30));
        var headers = KafkaReader.Headers(received.Message);
        Assert.Equal("1.0", headers["ce_specversion"]);
        Assert.Equal(message.EventId.ToString(), headers["ce_id"]);
        Assert.Equal("/orders-service", headers["ce_source"]);
        Assert.Equal("order-paid", headers["ce_type"]);
        Assert.Equal("application/json", headers["content-type"]);
        var time = DateTimeOffset.Parse(headers["ce_time"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(message.EventId.ToString(), headers[OutboxHeaders.EventId]); // the relay's own headers stay

        // The inbox reads the relay's form, and the CloudEvents form alone (as another producer would send it), as one event.
        var outboxForm = EventHeaders.Read(received);
        foreach (var name in new[] { OutboxHeaders.EventId, OutboxHeaders.EventType }) received.Message.Headers.Remove(name);
        var cloudEventsForm = EventHeaders.Read(received);
        Assert.Equal((message.EventId, "order-paid"), (outboxForm.EventId, outboxForm.EventType));
        Assert.Equal((message.EventId, "order-paid"), (cloudEventsForm.EventId, cloudEventsForm.EventType));
    }

    [Fact]
    public void ASourceThatIsNoUriReferenceIsRefusedAtStartUp()
    {
        var options = new KafkaOptions { BootstrapServers = "k:9092", CloudEvents = CloudEventsMode.Binary, CloudEventsSource = "not a uri" };
        var failures = new KafkaOptionsValidator().Validate(null, options).Failures!;
        Assert.Contains(failures, f => f.StartsWith("Kafka:CloudEventsSource='not a uri' must be a non-empty URI-reference", StringComparison.Ordinal));
    }
}
