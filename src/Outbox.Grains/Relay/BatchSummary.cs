using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>Reads per-row publish outcomes into what to record in the database and what to retry.</summary>
internal sealed record BatchSummary(BatchCompletion Completion, long AcknowledgedBytes, int TransientFailures, string? FirstTransientError)
{
    public static BatchSummary Of(IReadOnlyList<OutboxRow> batch, PublishOutcome[] outcomes)
    {
        var published = new List<long>(batch.Count);
        var parked = new List<(long, string)>();
        long bytes = 0;
        var transient = 0;
        string? firstError = null;
        for (var i = 0; i < batch.Count; i++)
        {
            switch (outcomes[i].Status)
            {
                case PublishStatus.Acknowledged:
                    published.Add(batch[i].Id);
                    bytes += batch[i].Payload.Length;
                    break;
                case PublishStatus.PermanentFailure:
                    parked.Add((batch[i].Id, outcomes[i].Error ?? "rejected by Kafka"));
                    break;
                case PublishStatus.TransientFailure:
                    transient++;
                    firstError ??= outcomes[i].Error;
                    break;
                case PublishStatus.HeldBack:
                    break;
            }
        }
        return new BatchSummary(new BatchCompletion(published, parked), bytes, transient, firstError);
    }
}
