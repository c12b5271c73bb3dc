using Orleans;
using Orleans.Placement;
using Orleans.Runtime;

namespace Outbox.Grains.Placement;

/// <summary>Places a partition grain on the silo <see cref="PartitionAssignment"/> assigns it to.</summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
internal sealed class PartitionPlacement : PlacementStrategy;

/// <summary>Marks a grain keyed by outbox partition for <see cref="PartitionPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class PartitionPlacementAttribute() : PlacementAttribute(new PartitionPlacement());
