namespace Outbox.Grains.Relay;

/// <summary>Some rows of a batch failed for now; the acknowledged ones were completed, the rest are retried.</summary>
internal sealed class TransientPublishException(int partition, int failed, string? firstError)
    : Exception($"Partition {partition}: {failed} message(s) not acknowledged yet ({firstError}); retrying.");
