namespace Outbox.Grains.Wake;

/// <summary>
/// "Partition p has new rows: drain it." What the wake paths (the relay reader, a host's own source such as
/// LISTEN/NOTIFY) call; cheap and fire-and-forget (bursts collapse into one drain on the receiving side). Registered by
/// AddOutboxRelay; it acts on partitions active in this silo only.
/// </summary>
public interface IPartitionWaker
{
    /// <summary>Asks <paramref name="partition"/>'s activation in this silo, if there is one, to drain.</summary>
    void Wake(int partition);
}
