using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace Outbox.Grains.Placement;

/// <summary>
/// Chooses the silo for a new partition activation: the one the balanced assignment gives it among the silos
/// compatible with the grain. Orleans calls it on first activation, after a silo died and on live migration.
/// </summary>
internal sealed class PartitionPlacementDirector(PartitionAssignment assignment) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var partition = (int)target.GrainIdentity.GetIntegerKey();
        return Task.FromResult(assignment.SiloFor(partition, silos) ?? context.LocalSilo);
    }
}
