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
    private const string Owner = "test-owner";
    private readonly NpgsqlDataSource _relayPool;
    private readonly RelayCompleter _completer;

    private ExactlyOnceHarness(NpgsqlDataSource relayPool, OutboxStore store, RelayCompleter completer, ExactlyOnceDelivery delivery)
    {
        _relayPool = relayPool;
        _completer = completer;
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
        var store = new OutboxStore(relayPool);
        var completer = new RelayCompleter(relayPool, Microsoft.Extensions.Options.Options.Create(new RelayOptions { Delivery = DeliveryMode.ExactlyOnce }));
        var delivery = await ExactlyOnceDelivery.StartAsync(Connection(kafka), ProducerSettings(kafka), Options(progressTopic), TestDatabase.Partitions,
            completer, store, new Outbox.Grains.Publishing.HeaderMode(null), NullLoggerFactory.Instance, CancellationToken.None);
        return new ExactlyOnceHarness(relayPool, store, completer, delivery);
    }

    /// <summary>Takes a new epoch for the partition, then starts its transactional session (which reconciles).</summary>
    public async Task<PartitionActivation> ActivateAsync(int partition)
    {
        var epoch = await Store.ActivateAsync(partition, Owner, CancellationToken.None);
        var publisher = await Delivery.ActivateAsync(partition, epoch, CancellationToken.None);
        return new PartitionActivation(partition, epoch, publisher, new ChangeFeed(_relayPool), _completer);
    }

    /// <summary>Keys that fall into <paramref name="partition"/>.</summary>
    public static string[] KeysOf(int partition, int count, string prefix = "key") =>
        Enumerable.Range(0, 10_000).Select(i => $"{prefix}-{i}")
            .Where(k => OutboxPartitioner.PartitionOf(k, TestDatabase.Partitions) == partition).Take(count).ToArray();

    public async ValueTask DisposeAsync()
    {
        await _completer.DisposeAsync();
        await _relayPool.DisposeAsync();
    }
}

/// <summary>One activation of one partition in exactly-once mode.</summary>
internal sealed class PartitionActivation(int partition, long epoch, TransactionalPublisher publisher, ChangeFeed reader, RelayCompleter completer)
    : IAsyncDisposable
{
    /// <summary>
    /// Reads the partition's rows (the reader's catch-up read) and publishes them in one transaction; removes them unless
    /// <paramref name="removeRows"/> is false (a crash before the delete).
    /// </summary>
    internal async Task<(int Read, PartitionDrainer.BatchResult Result)> PublishNextBatchAsync(bool removeRows = true)
    {
        var read = await reader.MaintainAsync("test-owner", new MaintenanceRequest([new CatchUpRead(partition, epoch, 0)], [], []), 1000,
            new RelayOptions().BatchMaxBytes, 1000, CancellationToken.None);
        var batch = read.Rows.Select(r => r.Row).OrderBy(r => r.Id).ToArray();
        var outcomes = await publisher.PublishAsync(partition, batch, CancellationToken.None);
        var result = PartitionDrainer.Classify(batch, outcomes, [], []);
        if (removeRows && !result.Completion.IsEmpty) await completer.CompleteAsync(partition, epoch, result.Completion, CancellationToken.None);
        return (batch.Length, result);
    }

    public async ValueTask DisposeAsync()
    {
        await publisher.DisposeAsync();
        await reader.DisposeAsync();
    }
}
