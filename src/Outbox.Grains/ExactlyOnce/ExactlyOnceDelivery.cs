using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Publishing;
using Outbox.Grains.Relay;
using Outbox.Grains.Storage;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// The exactly-once mode's shared parts (progress topic, producer settings, the silo's completer) and the entry point a
/// partition uses on activation: <see cref="ActivateAsync"/> returns the partition's own transactional publisher
/// once the rows its last committed transaction published are gone from the outbox.
/// </summary>
internal sealed class ExactlyOnceDelivery
{
    private readonly ILogger<TransactionalPublisher> _logger;

    private ExactlyOnceDelivery(ProgressTopic topic, ProgressReader reader, TransactionalProducerFactory producers, RelayCompleter completer,
        OutboxStore store, ExactlyOnceOptions options, HeaderMode headerMode, ILoggerFactory loggers)
    {
        Store = store;
        HeaderMode = headerMode;
        Topic = topic;
        Reader = reader;
        Producers = producers;
        Completer = completer;
        TransactionTimeout = options.TransactionTimeout;
        PublisherLogger = loggers.CreateLogger<KafkaPublisher>();
        RelayProducerLogger = loggers.CreateLogger<RelayProducer>();
        _logger = loggers.CreateLogger<TransactionalPublisher>();
    }

    internal ProgressTopic Topic { get; }

    internal ProgressReader Reader { get; }

    internal TransactionalProducerFactory Producers { get; }

    /// <summary>Completes batches of the silo's partitions; durable in this mode.</summary>
    internal RelayCompleter Completer { get; }

    /// <summary>Tells a starting session whether its epoch is still current.</summary>
    internal OutboxStore Store { get; }

    internal TimeSpan TransactionTimeout { get; }

    /// <summary>The headers messages carry besides the relay's own (CloudEvents mode).</summary>
    internal HeaderMode HeaderMode { get; }

    internal ILogger<KafkaPublisher> PublisherLogger { get; }

    internal ILogger<RelayProducer> RelayProducerLogger { get; }

    /// <summary>
    /// Ensures the progress topic and returns the mode ready for partitions to activate.
    /// <paramref name="connection"/> carries the brokers and security settings for the admin client and the
    /// progress reader; <paramref name="producerSettings"/> are the relay's producer settings.
    /// </summary>
    public static async Task<ExactlyOnceDelivery> StartAsync(ClientConfig connection, ProducerConfig producerSettings, ExactlyOnceOptions options,
        int outboxPartitions, RelayCompleter completer, OutboxStore store, HeaderMode headerMode, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger<ExactlyOnceDelivery>();
        var topic = await ProgressTopic.EnsureAsync(connection, options, outboxPartitions, logger, cancellationToken).ConfigureAwait(false);
        return new ExactlyOnceDelivery(topic, new ProgressReader(connection, topic, options.AdminTimeout),
            new TransactionalProducerFactory(producerSettings, options, logger), completer, store, options, headerMode, loggers);
    }

    /// <summary>
    /// Call once the partition's epoch is taken and before its first read: starts its transactional producer
    /// (InitTransactions fences a previous owner's producer on a real broker) and removes from the outbox the rows
    /// of its last committed transaction, so a crash between a Kafka commit and the database delete publishes nothing twice.
    /// </summary>
    public Task<TransactionalPublisher> ActivateAsync(int partition, long epoch, CancellationToken cancellationToken) =>
        TransactionalPublisher.ActivateAsync(partition, epoch, this, _logger, cancellationToken);
}
