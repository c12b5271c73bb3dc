using Outbox.Grains.Storage;

namespace Outbox.Grains.Publishing;

/// <summary>Publishes one partition's batch to Kafka and reports an outcome per row, in the batch's order.</summary>
internal interface IOutboxPublisher
{
    Task<PublishOutcome[]> PublishAsync(int partition, IReadOnlyList<OutboxRow> batch, CancellationToken cancellationToken);
}
