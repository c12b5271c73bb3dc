namespace Outbox.Silo.Hosting;

/// <summary>
/// Decides which partitions this silo hosts and drives <see cref="Outbox.Grains.Relay.IPartitionActivator"/>
/// accordingly. Stopping it hands every partition back after its in-flight batch.
/// </summary>
public interface IOwnershipEngine : IHostedService
{
    /// <summary>True once this silo joined its cluster and activated what it was assigned.</summary>
    bool IsSettled { get; }
}
