namespace Outbox.Grains.Publishing;

internal enum PublishStatus
{
    /// <summary>Kafka acknowledged the message (acks=all): the row may go.</summary>
    Acknowledged,
    /// <summary>Failed for now (broker down, timeout): keep the row and retry later.</summary>
    TransientFailure,
    /// <summary>Kafka will never take it (too large, topic missing or forbidden): park its key.</summary>
    PermanentFailure,
    /// <summary>Not sent because an earlier message of the same key failed in this batch: keeps the key's order.</summary>
    HeldBack,
}

/// <summary>The result of publishing one row.</summary>
internal readonly record struct PublishOutcome(PublishStatus Status, string? Error = null);
