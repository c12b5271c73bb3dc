using System.Collections.Concurrent;
using System.Diagnostics;
using Outbox.Grains.Diagnostics;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Observability;

/// <summary>
/// One trace from the enqueuing code through the relay's send span to whoever consumes the Kafka message:
/// the traceparent header a consumer reads belongs to the trace that was current at enqueue.
/// </summary>
public sealed class TraceContinuityTests : IAsyncLifetime, IDisposable
{
    private const string ApplicationSource = "Outbox.Tests.Application";
    private static readonly ActivitySource Application = new(ApplicationSource);

    private readonly TestDatabase _db = new();
    private readonly TestKafka _kafka = new();
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public TraceContinuityTests()
    {
        // Stands in for the OpenTelemetry SDK an application and the silo would run: records everything.
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is RelayTracing.SourceName or ApplicationSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Add,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _db.DisposeAsync();
        _kafka.Dispose();
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task AConsumerContinuesTheTraceOfTheEnqueuingActivity()
    {
        var topic = _kafka.CreateTopic(partitions: 1);
        await using var silo = await TestSilo.StartAsync(_db, _kafka);

        ActivityTraceId traceId;
        ActivitySpanId enqueueSpan;
        using (var placeOrder = Application.StartActivity("place order")!)
        {
            placeOrder.TraceStateString = "shop=checkout";
            traceId = placeOrder.TraceId;
            enqueueSpan = placeOrder.SpanId;
            await Enqueue.CommitAsync(_db, Enqueue.Event(topic, "order-1", 1));
        }

        var received = await KafkaReader.ReadOneAsync(_kafka.BootstrapServers, topic, TimeSpan.FromSeconds(20));
        var headers = KafkaReader.Headers(received.Message);
        Assert.True(ActivityContext.TryParse(headers["traceparent"], headers.GetValueOrDefault("tracestate"), out var consumerParent));
        Assert.Equal(traceId, consumerParent.TraceId);
        Assert.Equal("shop=checkout", consumerParent.TraceState);

        // The consumer's parent is the relay's send span, itself a child of the enqueuing activity.
        var send = await StoppedSendSpanAsync(traceId);
        Assert.Equal(consumerParent.SpanId, send.SpanId);
        Assert.Equal(enqueueSpan, send.ParentSpanId);
        Assert.NotEqual(enqueueSpan, consumerParent.SpanId);
        Assert.Equal(ActivityKind.Producer, send.Kind);
        Assert.Equal($"send {topic}", send.DisplayName);
        Assert.Equal("kafka", send.GetTagItem("messaging.system"));
        Assert.Equal("send", send.GetTagItem("messaging.operation.type"));
        Assert.Equal(topic, send.GetTagItem("messaging.destination.name"));
        Assert.Equal("order-1", send.GetTagItem("messaging.kafka.message.key"));
        Assert.Equal(received.Offset.Value, send.GetTagItem("messaging.kafka.offset"));
        Assert.Equal(ActivityStatusCode.Unset, send.Status);
    }

    [Fact]
    public async Task AMessageEnqueuedOutsideAnyTraceGetsACleanRoot()
    {
        var topic = _kafka.CreateTopic(partitions: 1);
        await using var silo = await TestSilo.StartAsync(_db, _kafka);
        Activity.Current = null;

        await Enqueue.CommitAsync(_db, Enqueue.Event(topic, "k", 1), Enqueue.Event(topic, "k", 2));

        var received = await KafkaReader.ReadAsync(_kafka.BootstrapServers, topic, 2, TimeSpan.FromSeconds(20));
        var contexts = received.Select(r =>
        {
            var headers = KafkaReader.Headers(r.Message);
            Assert.False(headers.ContainsKey("tracestate"));
            Assert.True(ActivityContext.TryParse(headers["traceparent"], null, out var context), headers["traceparent"]);
            return context;
        }).ToArray();
        Assert.All(contexts, c => Assert.NotEqual(default, c.TraceId));
        Assert.NotEqual(contexts[0].TraceId, contexts[1].TraceId);
        foreach (var context in contexts)
        {
            var send = await StoppedSendSpanAsync(context.TraceId);
            Assert.Equal(default, send.ParentSpanId);
            Assert.Equal(context.SpanId, send.SpanId);
        }
    }

    private async Task<Activity> StoppedSendSpanAsync(ActivityTraceId traceId)
    {
        Activity? send = null;
        await Eventually.TrueAsync(() =>
        {
            send = _stopped.FirstOrDefault(a => a.Source.Name == RelayTracing.SourceName && a.TraceId == traceId);
            return Task.FromResult(send is not null);
        }, TimeSpan.FromSeconds(10), "the relay's send span ends when Kafka acknowledges");
        return send!;
    }
}
