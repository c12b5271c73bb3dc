using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Outbox.Contracts;
using Outbox.Grains.ExactlyOnce;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;
using Outbox.Tests.Infrastructure;

namespace Outbox.Tests.ExactlyOnce;

/// <summary>
/// The exactly-once parts wired as a partition uses them (epoch, transactional session, read, publish, remove),
/// without a silo, so a test can stop between any two steps: a "crash" is dropping an activation unfinished.
/// </summary>
internal sealed class ExactlyOnceHarness : IAsyncDisposable
{
    private readonly NpgsqlDataSource _relayPool;

    private ExactlyOnceHarness(NpgsqlDataSource relayPool, OutboxStore store, ExactlyOnceDelivery delivery)
    {
        _relayPool = relayPool;
        Store = store;
        Delivery = delivery;
    }

    public OutboxStore Store { get; }

    public ExactlyOnceDelivery Delivery { get; }

    public static ExactlyOnceOptions Options(string progressTopic) => new()
    {
        TransactionalIdPrefix = "test-" + Guid.NewGuid().ToString("N")[..8],
        ProgressTopic = progressTopic,
        TransactionTimeout = TimeSpan.FromSeconds(20),
        AdminTimeout = TimeSpan.FromSeconds(10),
    };

    public static ClientConfig Connection(TestKafka kafka) => new() { BootstrapServers = kafka.BootstrapServers };

    public static ProducerConfig ProducerSettings(TestKafka kafka) => new() { BootstrapServers = kafka.BootstrapServers, LingerMs = 2 };

    /// <summary>The mock cluster cannot create topics through the admin API, so the progress topic is made here first.</summary>
    public static async Task<ExactlyOnceHarness> StartAsync(TestDatabase database, TestKafka kafka)
    {
        var progressTopic = kafka.CreateTopic("progress", TestDatabase.Partitions);
        var relayPool = NpgsqlDataSource.Create(database.ConnectionString);
        var store = new OutboxStore(relayPool, auditPublished: false);
        var delivery = await ExactlyOnceDelivery.StartAsync(Connection(kafka), ProducerSettings(kafka), Options(progressTopic), TestDatabase.Partitions,
            store, new Outbox.Grains.Publishing.HeaderMode(null), NullLoggerFactory.Instance, CancellationToken.None);
        return new ExactlyOnceHarness(relayPool, store, delivery);
    }

    /// <summary>Takes a new epoch for the partition, then starts its transactional session (which reconciles).</summary>
    public async Task<PartitionActivation> ActivateAsync(int partition)
    {
        var epoch = await Store.ActivateAsync(partition, "test-owner", CancellationToken.None);
        var publisher = await Delivery.ActivateAsync(partition, epoch, CancellationToken.None);
        return new PartitionActivation(partition, epoch, publisher, Store);
    }

    /// <summary>Keys that fall into <paramref name="partition"/>.</summary>
    public static string[] KeysOf(int partition, int count, string prefix = "key") =>
        Enumerable.Range(0, 10_000).Select(i => $"{prefix}-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition).Take(count).ToArray();

    public ValueTask DisposeAsync() => _relayPool.DisposeAsync();
}

/// <summary>One activation of one partition in exactly-once mode.</summary>
internal sealed class PartitionActivation(int partition, long epoch, TransactionalPublisher publisher, OutboxStore store) : IAsyncDisposable
{
    /// <summary>Reads the partition's due rows and publishes them in one transaction; removes them unless <paramref name="removeRows"/> is false (a crash before the delete).</summary>
    internal async Task<(int Read, BatchSummary Summary)> PublishNextBatchAsync(bool removeRows = true)
    {
        var batch = (await store.ReadBatchAsync(partition, epoch, start: 0, inFlight: [], limit: 1000, maxBytes: new RelayOptions().BatchMaxBytes, CancellationToken.None)).Rows;
        var outcomes = await publisher.PublishAsync(partition, batch, CancellationToken.None);
        var summary = BatchSummary.Of(batch, outcomes);
        if (removeRows && !summary.Completion.IsEmpty) await store.CompleteAsync(partition, epoch, summary.Completion, CancellationToken.None);
        return (batch.Count, summary);
    }

    public ValueTask DisposeAsync() => publisher.DisposeAsync();
}
