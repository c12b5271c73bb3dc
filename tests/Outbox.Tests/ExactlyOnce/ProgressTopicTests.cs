using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Outbox.Grains.ExactlyOnce;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>The progress topic is found or created at start-up, and a topic the mode cannot use stops it with a clear error.</summary>
public sealed class ProgressTopicTests : IDisposable
{
    private readonly TestKafka _kafka = new();

    [Fact]
    public async Task AMissingProgressTopicKafkaCannotCreateStopsStartUpNamingTheTopicAndTheFix()
    {
        // The mock cluster has no CreateTopics API: the same answer as a broker that refuses the relay's principal.
        var options = ExactlyOnceHarness.Options("progress-missing");
        options.AdminTimeout = TimeSpan.FromSeconds(2);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ProgressTopic.EnsureAsync(ExactlyOnceHarness.Connection(_kafka), options, TestDatabase.Partitions, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("'progress-missing' does not exist and could not be created", error.Message, StringComparison.Ordinal);
        Assert.Contains("cleanup.policy=compact", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AProgressTopicWithFewerPartitionsThanTheOutboxIsRefused()
    {
        var topic = _kafka.CreateTopic("progress-small", partitions: 4);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ProgressTopic.EnsureAsync(ExactlyOnceHarness.Connection(_kafka),
            ExactlyOnceHarness.Options(topic), TestDatabase.Partitions, NullLogger.Instance, CancellationToken.None));

        Assert.Contains($"has 4 partition(s); exactly-once delivery needs at least {TestDatabase.Partitions}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExistingProgressTopicWithOnePartitionPerOutboxPartitionIsUsedAsItIs()
    {
        var topic = _kafka.CreateTopic("progress", partitions: TestDatabase.Partitions);

        var progress = await ProgressTopic.EnsureAsync(ExactlyOnceHarness.Connection(_kafka), ExactlyOnceHarness.Options(topic), TestDatabase.Partitions,
            NullLogger.Instance, CancellationToken.None);

        Assert.Equal(TestDatabase.Partitions, progress.Partitions);
        Assert.Equal(7, progress.KafkaPartitionOf(7));
    }

    public void Dispose() => _kafka.Dispose();
}
