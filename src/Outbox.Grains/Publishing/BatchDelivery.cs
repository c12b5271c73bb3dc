using System.Diagnostics;
using Confluent.Kafka;
using Outbox.Grains.Diagnostics;

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
    private Activity?[]? _spans;

    public BatchDelivery(int count)
    {
        _outcomes = new PublishOutcome[count];
        _remaining = count;
        if (count == 0) _done.SetResult(_outcomes);
    }

    public Task<PublishOutcome[]> Completion => _done.Task;

    /// <summary>Ends <paramref name="send"/> (the message's span, when traced) once the message's outcome is known.</summary>
    public void Trace(int index, Activity? send)
    {
        if (send is not null) (_spans ??= new Activity?[_outcomes.Length])[index] = send;
    }

    public void Set(int index, PublishOutcome outcome)
    {
        _outcomes[index] = outcome;
        if (_spans?[index] is { } send && outcome.Status != PublishStatus.Acknowledged) RelayTracing.Failed(send, outcome);
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
            if (_spans?[index] is { } send) RelayTracing.Acknowledged(send, report.Partition.Value, report.Offset.Value);
            Set(index, new PublishOutcome(PublishStatus.Acknowledged));
        }
    }
}
