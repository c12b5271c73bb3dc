using Outbox.Grains.Publishing;
using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>Reads per-row publish outcomes into what to record in the database and what to retry.</summary>
/// <param name="Completion">What to remove (acknowledged rows) and park (refused for good) under the epoch fence.</param>
/// <param name="AcknowledgedBytes">Payload bytes of the acknowledged rows.</param>
/// <param name="TransientFailures">Rows that failed for now and are retried, in order, by the next attempt.</param>
/// <param name="FirstTransientError">The first of those failures, for the log.</param>
/// <param name="AckedAfterFailure">
/// Rows acknowledged although an earlier row of their key failed asynchronously in the same batch: Kafka has
/// them ahead of that row now. Only a broker-side rejection or a timeout of one message but not the next can
/// do this; it is counted and logged so it never goes unseen.
/// </param>
internal sealed record BatchSummary(BatchCompletion Completion, long AcknowledgedBytes, int TransientFailures, string? FirstTransientError,
    int AckedAfterFailure)
{
    public static BatchSummary Of(IReadOnlyList<OutboxRow> batch, PublishOutcome[] outcomes)
    {
        var published = new List<long>(batch.Count);
        var parked = new List<(long, string)>();
        long bytes = 0;
        var transient = 0;
        var ackedAfterFailure = 0;
        string? firstError = null;
        HashSet<string>? failedKeys = null;
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i].Status is PublishStatus.PermanentFailure or PublishStatus.TransientFailure)
                (failedKeys ??= new HashSet<string>(StringComparer.Ordinal)).Add(batch[i].Key);
            switch (outcomes[i].Status)
            {
                case PublishStatus.Acknowledged:
                    if (failedKeys?.Contains(batch[i].Key) == true) ackedAfterFailure++;
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
        return new BatchSummary(new BatchCompletion(published, parked), bytes, transient, firstError, ackedAfterFailure);
    }
}
