namespace Outbox.Contracts.Admin;

/// <summary>Audited (published) messages to publish again: ids <see cref="FromId"/> to <see cref="ToId"/>, optionally of one partition.</summary>
public sealed record ReplayRange(long FromId, long ToId, int? Partition = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> unless the range is non-empty, positive and at most <see cref="AdminLimits.MaxReplayRange"/> ids.</summary>
    public void Validate()
    {
        if (FromId <= 0 || ToId <= 0) throw new ArgumentException("Message ids must be positive.", nameof(FromId));
        if (FromId > ToId) throw new ArgumentException($"The range {FromId}..{ToId} is empty: from must not exceed to.", nameof(FromId));
        if (ToId - FromId >= AdminLimits.MaxReplayRange)
            throw new ArgumentException($"A replay covers at most {AdminLimits.MaxReplayRange} ids; split the range.", nameof(ToId));
        if (Partition is { } p) AdminLimits.ValidatePartition(p);
    }
}
