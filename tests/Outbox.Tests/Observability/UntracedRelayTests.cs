using System.Diagnostics;
using Outbox.Grains.Diagnostics;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.Observability;

/// <summary>Runs alone: ActivityListeners are process-wide, and this class needs a process where nobody listens.</summary>
[CollectionDefinition(nameof(NoActivityListeners), DisableParallelization = true)]
public sealed class NoActivityListeners;

/// <summary>
/// With tracing off (no exporter, no listener) the relay starts no span and the consumer still gets the
/// enqueuing code's trace context, byte for byte.
/// </summary>
[Collection(nameof(NoActivityListeners))]
public sealed class UntracedRelayTests : RelayTestBase
{
    [Fact]
    public async Task WithoutListenersTheStoredTraceContextPassesThroughUnchanged()
    {
        using (var probe = new ActivitySource(RelayTracing.SourceName))
            Assert.False(probe.HasListeners(), "another test left an ActivityListener registered for the relay's source");
        var topic = Kafka.CreateTopic(partitions: 1);
        await using var silo = await TestSilo.StartAsync(Db, Kafka);

        // An Activity started directly (no ActivitySource) needs no listener: the application's own trace.
        var enqueuing = new Activity("place order").SetIdFormat(ActivityIdFormat.W3C);
        enqueuing.TraceStateString = "shop=checkout";
        enqueuing.Start();
        try
        {
            await Enqueue.CommitAsync(Db, Enqueue.Event(topic, "order-1", 1));
        }
        finally
        {
            enqueuing.Stop();
        }

        var received = await KafkaReader.ReadOneAsync(Kafka.BootstrapServers, topic, TimeSpan.FromSeconds(20));
        var headers = KafkaReader.Headers(received.Message);
        Assert.Equal(enqueuing.Id, headers["traceparent"]);
        Assert.Equal("shop=checkout", headers["tracestate"]);
    }
}
