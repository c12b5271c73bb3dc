namespace Outbox.Grains.Storage;

/// <summary>What to record after a publish attempt: rows Kafka acknowledged, and rows to park with a reason.</summary>
internal sealed record BatchCompletion(IReadOnlyList<long> PublishedIds, IReadOnlyList<(long Id, string Reason)> Parked)
{
    public bool IsEmpty => PublishedIds.Count == 0 && Parked.Count == 0;
}

/// <summary>The database's answer: whether the fence held and how many rows each part touched.</summary>
internal sealed record CompletionResult(bool Fenced, int Removed, int Parked);
