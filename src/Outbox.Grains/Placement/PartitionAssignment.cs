using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Outbox.Grains.Relay;

namespace Outbox.Grains.Placement;

/// <summary>
/// Which silo each partition belongs on, as a pure function of the set of silos that host the relay: balanced
/// rendezvous hashing. Every partition ranks the silos by a stable hash of (silo, partition) and takes the best
/// one that still has room, room being ⌈partitions / silos⌉. So partitions spread evenly (64 over 3 silos:
/// 22/21/21), every silo computes the same answer without coordination, and a joining or leaving silo moves
/// few partitions beyond its own share (an unbalanced hash would move only those, but spread unevenly; a
/// modulo spread would be even but move most partitions).
/// </summary>
internal sealed class PartitionAssignment(IOptions<RelayOptions> options, IClusterMembershipService membership, IClusterManifestProvider manifest)
{
    private readonly int _partitionCount = options.Value.PartitionCount;

    /// <summary>The silo for <paramref name="partition"/> among <paramref name="silos"/>; null when there is none.</summary>
    public SiloAddress? SiloFor(int partition, IReadOnlyCollection<SiloAddress> silos)
    {
        if (silos.Count == 0 || partition < 0 || partition >= _partitionCount) return null;
        return Assign(_partitionCount, silos)[partition];
    }

    /// <summary>True when the active relay silos now assign <paramref name="partition"/> to a silo other than <paramref name="local"/>.</summary>
    public bool IsElsewhere(int partition, SiloAddress local, GrainType grainType)
    {
        var silos = ActiveRelaySilos(grainType);
        // A silo that does not see itself as an active relay silo yet (starting, or its manifest not yet
        // propagated) cannot judge; it keeps what it has.
        if (!silos.Contains(local)) return false;
        return SiloFor(partition, silos) is { } target && !target.Equals(local);
    }

    /// <summary>The silos that membership shows active and whose manifest has the partition grain.</summary>
    public SiloAddress[] ActiveRelaySilos(GrainType grainType)
    {
        var cluster = manifest.Current;
        return membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active
                        && cluster.Silos.TryGetValue(m.SiloAddress, out var silo) && silo.Grains.ContainsKey(grainType))
            .Select(m => m.SiloAddress)
            .ToArray();
    }

    /// <summary>The balanced assignment of partitions 0..<paramref name="partitionCount"/>-1 to <paramref name="silos"/>.</summary>
    internal static SiloAddress[] Assign(int partitionCount, IReadOnlyCollection<SiloAddress> silos)
    {
        var ordered = silos.Distinct().OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();
        var capacity = (partitionCount + ordered.Length - 1) / ordered.Length;
        var load = new int[ordered.Length];
        var result = new SiloAddress[partitionCount];
        var ranking = new (ulong Score, int Silo)[ordered.Length];
        for (var partition = 0; partition < partitionCount; partition++)
        {
            for (var i = 0; i < ordered.Length; i++)
                ranking[i] = (Score(ordered[i], partition), i);
            Array.Sort(ranking, (a, b) => b.Score.CompareTo(a.Score));
            var chosen = ranking.First(r => load[r.Silo] < capacity).Silo;
            load[chosen]++;
            result[partition] = ordered[chosen];
        }
        return result;
    }

    /// <summary>A hash of (silo, partition) that every process computes alike (SplitMix64 finaliser).</summary>
    private static ulong Score(SiloAddress silo, int partition)
    {
        var x = ((ulong)(uint)silo.GetConsistentHashCode() << 32) ^ (uint)partition;
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}
