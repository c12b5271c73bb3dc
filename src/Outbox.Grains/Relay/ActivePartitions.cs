using System.Collections.Concurrent;

namespace Outbox.Grains.Relay;

/// <summary>The partitions active in this silo and the epochs they hold (for status, gauges and readiness).</summary>
public sealed class ActivePartitions
{
    private readonly ConcurrentDictionary<int, long> _epochs = new();

    /// <summary>Partitions active here, and their epochs.</summary>
    public IReadOnlyDictionary<int, long> ActiveEpochs => _epochs.ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>The partitions active here, as a snapshot.</summary>
    public IReadOnlyCollection<int> Partitions() => _epochs.Keys.ToArray();

    /// <summary>Whether <paramref name="partition"/> has an activation in this silo.</summary>
    public bool IsActive(int partition) => _epochs.ContainsKey(partition);

    internal void Add(int partition, long epoch) => _epochs[partition] = epoch;

    /// <summary>Forgets the partition only if it still holds <paramref name="epoch"/> (a newer local activation may already have replaced it).</summary>
    internal void Remove(int partition, long epoch) => _epochs.TryRemove(new KeyValuePair<int, long>(partition, epoch));
}
