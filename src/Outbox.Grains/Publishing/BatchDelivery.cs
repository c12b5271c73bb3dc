using Confluent.Kafka;

namespace Outbox.Grains.Publishing;

/// <summary>
/// Collects the delivery reports of one batch (they arrive on librdkafka's poll thread) and completes once
/// every message has an outcome.
/// </summary>
internal sealed class BatchDelivery
{
    private readonly PublishOutcome[] _outcomes;
    private readonly TaskCompletionSource<PublishOutcome[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining;

    public BatchDelivery(int count)
    {
        _outcomes = new PublishOutcome[count];
        _remaining = count;
        if (count == 0) _done.SetResult(_outcomes);
    }

    public Task<PublishOutcome[]> Completion => _done.Task;

    public void Set(int index, PublishOutcome outcome)
    {
        _outcomes[index] = outcome;
        if (Interlocked.Decrement(ref _remaining) == 0) _done.TrySetResult(_outcomes);
    }

    public void Report(int index, DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError)
        {
            var status = KafkaErrorClassifier.IsPermanent(report.Error) ? PublishStatus.PermanentFailure : PublishStatus.TransientFailure;
            Set(index, new PublishOutcome(status, $"{report.Error.Code}: {report.Error.Reason}"));
        }
        else
        {
            Set(index, new PublishOutcome(PublishStatus.Acknowledged));
        }
    }
}
