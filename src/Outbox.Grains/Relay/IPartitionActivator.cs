namespace Outbox.Grains.Relay;

/// <summary>
/// The narrow seam between an ownership engine and the relays: assignments come in, relays are activated and
/// deactivated. The relays never learn which engine (a single silo, Kafka's consumer group, Orleans) hosts them.
/// </summary>
public interface IPartitionActivator
{
    /// <summary>This silo now owns the partitions: take their epochs and start draining.</summary>
    Task ActivateAsync(IReadOnlyCollection<int> partitions, CancellationToken cancellationToken);

    /// <summary>The partitions move elsewhere in an orderly way: finish in-flight batches, then stop.</summary>
    Task RevokeAsync(IReadOnlyCollection<int> partitions);

    /// <summary>Ownership is already gone (session expired): stop at once, complete nothing more.</summary>
    Task LoseAsync(IReadOnlyCollection<int> partitions);
}
