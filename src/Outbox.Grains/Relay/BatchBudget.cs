using Outbox.Grains.Storage;

namespace Outbox.Grains.Relay;

/// <summary>
/// Whether a batch stopped at one of its limits (rows or bytes), so more rows may be waiting behind it. A batch
/// that ended below both limits was everything due, and the drain can end after it.
/// </summary>
internal static class BatchBudget
{
    public static bool IsFull(IReadOnlyList<OutboxRow> batch, RelayOptions options)
    {
        if (batch.Count >= options.BatchSize) return true;
        long bytes = 0;
        foreach (var row in batch) bytes += row.Payload.Length;
        return bytes >= options.BatchMaxBytes;
    }
}
