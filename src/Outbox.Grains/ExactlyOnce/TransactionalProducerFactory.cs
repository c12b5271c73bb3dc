using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// Builds each partition's transactional producer from the relay's producer settings (security, compression,
/// linger...), with the partition's stable transactional.id.
/// </summary>
internal sealed partial class TransactionalProducerFactory(ProducerConfig producerSettings, ExactlyOnceOptions options, ILogger logger)
{
    public string TransactionalIdOf(int partition) =>
        options.TransactionalIdPrefix + "-" + partition.ToString(CultureInfo.InvariantCulture);

    public IProducer<byte[], byte[]> Create(int partition)
    {
        var transactionTimeoutMs = (int)options.TransactionTimeout.TotalMilliseconds;
        var config = new ProducerConfig(producerSettings.ToDictionary(p => p.Key, p => p.Value))
        {
            TransactionalId = TransactionalIdOf(partition),
            TransactionTimeoutMs = transactionTimeoutMs,
            EnableIdempotence = true,
            Acks = Acks.All,
            // The producer only ever holds one batch and its progress record.
            QueueBufferingMaxMessages = 100_000,
        };
        // librdkafka refuses a message timeout longer than the transaction's (0, "forever", is longer too).
        if (config.MessageTimeoutMs is null or 0 || config.MessageTimeoutMs > transactionTimeoutMs) config.MessageTimeoutMs = transactionTimeoutMs;
        return new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, error) => LogProducerError(logger, partition, error.Code, error.Reason, error.IsFatal))
            .Build();
    }

    [LoggerMessage(EventId = OutboxEventId.TransactionalProducerError, Level = LogLevel.Warning, Message = "Partition {Partition} transactional producer: {Code} {Reason} (fatal: {Fatal})")]
    private static partial void LogProducerError(ILogger logger, int partition, ErrorCode code, string reason, bool fatal);
}
