namespace Outbox.Grains.Storage;

/// <summary>Another relay took the partition (a newer epoch exists): this one must stop at once.</summary>
internal sealed class PartitionFencedException(int partition, long epoch)
    : Exception($"Partition {partition} is owned by a newer epoch than {epoch}; this relay was fenced off.")
{
    public int Partition { get; } = partition;
    public long Epoch { get; } = epoch;
}
