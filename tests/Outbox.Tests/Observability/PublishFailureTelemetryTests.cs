using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics;
using Outbox.Grains.Diagnostics;
using Outbox.Tests.Infrastructure;
using Outbox.Tools.Kafka;

namespace Outbox.Tests.Observability;

/// <summary>
/// A message Kafka rejects for good shows up everywhere an operator looks: the failures counter (permanent),
/// the parked gauge of its partition, and an error send span in its trace.
/// </summary>
public sealed class PublishFailureTelemetryTests : IAsyncLifetime, IDisposable
{
    private readonly TestDatabase _db = new();
    private readonly TestKafka _kafka = new();
    private readonly ConcurrentBag<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public PublishFailureTelemetryTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RelayTracing.SourceName,
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
    public async Task APermanentlyRejectedMessageIsCountedParkedAndItsSpanFails()
    {
        var topic = _kafka.CreateTopic(partitions: 1);
        await using var silo = await TestSilo.StartAsync(_db, _kafka,
            overrides: new Dictionary<string, string> { ["Telemetry:StatusPollInterval"] = "00:00:00.200" });
        using var recorder = new MeterRecorder(silo.Get<IMeterFactory>());
        var poison = Enqueue.Event(topic, "poison-key", 1);
        var partition = Outbox.Contracts.OutboxPartitioner.PartitionOf(poison.Key, TestDatabase.Partitions);

        // The broker answers the next produce request with "message too large": permanent, the key is parked.
        _kafka.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.Produce, MockKafkaCluster.Errors.MessageTooLarge);
        await Enqueue.CommitAsync(_db, poison);
        await Eventually.TrueAsync(async () => await _db.ScalarAsync("select count(*) from outbox.messages where parked_at is not null") == 1,
            TimeSpan.FromSeconds(20), "the rejected message is parked");

        await Eventually.TrueAsync(() => Task.FromResult(recorder.ObservePerPartition("outbox.parked.messages").GetValueOrDefault(partition) == 1),
            TimeSpan.FromSeconds(10), "the parked gauge shows the parked row in its partition");
        Assert.Equal(1, recorder.ObservePerPartition("outbox.parked.messages").Values.Sum());
        Assert.Equal(1, recorder.Sum("outbox.publish.failures"));
        Assert.Equal(0, recorder.Sum("messaging.client.sent.messages"));

        var send = _stopped.Single(a => (string?)a.GetTagItem("messaging.message.id") == poison.EventId.ToString());
        Assert.Equal(ActivityStatusCode.Error, send.Status);
        Assert.Equal("permanent", send.GetTagItem("error.type"));
        Assert.Contains("MsgSizeTooLarge", send.StatusDescription, StringComparison.Ordinal);
    }
}
