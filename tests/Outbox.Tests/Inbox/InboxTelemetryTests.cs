using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Outbox.Inbox.Diagnostics;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Inbox;

namespace Outbox.Tests.Inbox;

/// <summary>What an operator sees of a consumer: a span per event continuing the producer's trace, lag, health.</summary>
public sealed class InboxTelemetryTests : InboxTestBase
{
    [Fact]
    public async Task EachEventsSpanContinuesTheProducersTraceAndTheHealthCheckAndLagReportTheConsumer()
    {
        var topic = Kafka.CreateTopic("inbox", partitions: 1);
        var producerSpan = ActivityTraceId.CreateRandom();
        var processed = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == InboxTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (processed) processed.Add(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        var e = LedgerEvents.OrderEvent.Of("order-1", 1, 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(topic, new Message<byte[], byte[]>
            {
                Key = "order-1"u8.ToArray(),
                Value = "{}"u8.ToArray(),
                Headers = new Headers
                {
                    { "outbox-event-id", Encoding.UTF8.GetBytes(e.EventId.ToString()) },
                    { "outbox-sequence", "1"u8.ToArray() },
                    { "version", "1"u8.ToArray() },
                    { "traceparent", Encoding.UTF8.GetBytes($"00-{producerSpan}-{ActivitySpanId.CreateRandom()}-01") },
                },
            });
        }
        var consumer = await StartConsumerAsync<LedgerHandler>(topic);
        await WaitForAppliedAsync(1, TimeSpan.FromSeconds(60));

        Activity span;
        lock (processed) span = Assert.Single(processed, a => a.GetTagItem("messaging.message.id") as string == e.EventId.ToString());
        Assert.Equal(producerSpan, span.TraceId);
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal($"process {topic}", span.DisplayName);

        var health = await consumer.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(c => c.Tags.Contains("inbox"));
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(1, health.Entries.Single().Value.Data["assigned_partitions"]);

        // The lag gauge reports the partition once the consumer saw its high watermark: nothing left to apply.
        long? lag = null;
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == InboxTelemetry.Name && instrument.Name == "outbox.inbox.lag") l.EnableMeasurementEvents(instrument);
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag is { Key: "consumer_group", Value: string g } && g == Group) lag = value;
        });
        meters.Start();
        await Eventually.TrueAsync(() =>
        {
            meters.RecordObservableInstruments();
            return Task.FromResult(lag == 0);
        }, TimeSpan.FromSeconds(20), "the lag gauge reports the partition with nothing left to apply");
    }
}
