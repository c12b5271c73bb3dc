using System.Buffers;
using System.Text;

namespace Outbox.Contracts;

/// <summary>
/// Maps an ordering key to its outbox partition with Kafka's murmur2 over the key's UTF-8 bytes, the same
/// function the SQL <c>outbox.partition_of</c> uses, so every writer and every version agrees.
/// </summary>
public static class OutboxPartitioner
{
    /// <summary>The outbox partition (0 to <paramref name="partitionCount"/> - 1) of ordering key <paramref name="key"/>.</summary>
    public static int PartitionOf(string key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        return KeyHash(key) % partitionCount;
    }

    /// <summary>
    /// The key's murmur2 without its sign bit, as outbox.murmur2 returns it: the partition is this modulo the partition
    /// count, which the C# writer leaves to the database (it need not know the count).
    /// </summary>
    internal static int KeyHash(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var length = Encoding.UTF8.GetByteCount(key);
        var rented = length <= 256 ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> bytes = rented ?? stackalloc byte[256];
        Encoding.UTF8.GetBytes(key, bytes);
        var hash = Murmur2(bytes[..length]);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        return hash & 0x7fffffff;
    }

    /// <summary>Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var i = 0;
        for (; i + 4 <= length; i += 4)
        {
            var k = (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[i + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[i + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[i];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return (int)h;
    }
}
