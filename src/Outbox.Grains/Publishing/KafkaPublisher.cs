using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Outbox.Grains.Diagnostics;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Publishes batches through one shared idempotent producer (acks=all), so librdkafka batches across all
/// partitions of the silo. Idempotence keeps each Kafka partition's order across internal retries; the
/// relay adds the per-key rule: once a message of a key fails in a batch, later messages of that key are
/// held back, never sent past it.
/// </summary>
internal sealed partial class KafkaPublisher(RelayProducer relayProducer, HeaderMode headerMode, ILogger<KafkaPublisher> logger) : IOutboxPublisher
{
    private static readonly TimeSpan QueueFullBackoff = TimeSpan.FromMilliseconds(20);

    public async Task<PublishOutcome[]> PublishAsync(int partition, IReadOnlyList<OutboxRow> batch, CancellationToken cancellationToken)
    {
        var delivery = new BatchDelivery(batch.Count);
        // One producer per batch: after a fatal error the batch fails and its retry goes to the replacement.
        var producer = relayProducer.Current;
        HashSet<string>? failedKeys = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var row = batch[i];
            if (failedKeys?.Contains(row.Key) == true)
            {
                delivery.Set(i, new PublishOutcome(PublishStatus.HeldBack));
                continue;
            }
            var send = RelayTracing.StartSend(row, partition);
            delivery.Trace(i, send);
            var message = OutboxMessageMapper.ToKafka(row, partition, RelayTracing.Traceparent(send, row), RelayTracing.Tracestate(send, row), headerMode);
            if (headerMode.StageTimestamps) message.Headers.Add(OutboxHeaders.Stages, Stages(row));
            var outcome = await ProduceAsync(producer, row.Topic, message, delivery, i, cancellationToken).ConfigureAwait(false);
            if (outcome is { } failed)
            {
                LogProduceRejected(logger, partition, row.Id, failed.Error);
                (failedKeys ??= new HashSet<string>(StringComparer.Ordinal)).Add(row.Key);
                delivery.Set(i, failed);
            }
        }
        return await delivery.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static byte[] Stages(OutboxRow row) => System.Text.Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
        $"wake={row.Read.SentUnixMicros};read={row.Read.AnsweredUnixMicros};produced={(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10}"));

    /// <summary>Hands one message to librdkafka; returns an outcome only when it was refused locally.</summary>
    private static async ValueTask<PublishOutcome?> ProduceAsync(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message, BatchDelivery delivery, int index,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, report => delivery.Report(index, report));
                return null;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // librdkafka's queue is full: Kafka is slow or down. Wait for it to drain, keep the order.
                await Task.Delay(QueueFullBackoff, cancellationToken).ConfigureAwait(false);
            }
            catch (ProduceException<byte[], byte[]> e)
            {
                var status = KafkaErrorClassifier.IsPermanent(e.Error) ? PublishStatus.PermanentFailure : PublishStatus.TransientFailure;
                return new PublishOutcome(status, $"{e.Error.Code}: {e.Error.Reason}");
            }
        }
    }

    [LoggerMessage(EventId = OutboxEventId.ProduceRefused, Level = LogLevel.Warning, Message = "Partition {Partition}: Kafka refused row {RowId} before sending: {Error}")]
    private static partial void LogProduceRejected(ILogger logger, int partition, long rowId, string? error);
}
