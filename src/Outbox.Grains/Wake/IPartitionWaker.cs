namespace Outbox.Grains.Wake;

/// <summary>
/// "Partition p has new rows: drain it." What the wake paths (change probe, notifications) depend on; cheap and
/// fire-and-forget (bursts collapse into one drain on the receiving side).
/// </summary>
public interface IPartitionWaker
{
    void Wake(int partition);
}
