using System.Text;

namespace Outbox.Contracts.Admin;

/// <summary>
/// Which parked messages of one partition an operator acts on: one message (<see cref="Id"/>), the parked
/// messages of one key (<see cref="Key"/>), or every parked message of the partition (neither).
/// </summary>
public sealed record ParkedSelection(int Partition, long? Id = null, string? Key = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the selection cannot name anything.</summary>
    public void Validate()
    {
        AdminLimits.ValidatePartition(Partition);
        if (Id is <= 0) throw new ArgumentException($"Message id must be positive, not {Id}.", nameof(Id));
        if (Key is not null) AdminLimits.ValidateKey(Key);
    }
}

/// <summary>Bounds on operator input: everything an admin call takes is checked before it reaches SQL (as a parameter).</summary>
public static class AdminLimits
{
    /// <summary>The schema allows at most 4096 partitions.</summary>
    public const int MaxPartition = 4095;

    public const int MaxListLimit = 1000;

    /// <summary>Widest id range one replay may cover, so a typo cannot copy the whole audit table at once.</summary>
    public const long MaxReplayRange = 1_000_000;

    public const int MaxReasonLength = 1000;

    public const int MaxOperatorLength = 200;

    public static void ValidatePartition(int partition)
    {
        if (partition is < 0 or > MaxPartition)
            throw new ArgumentException($"Partition must be between 0 and {MaxPartition}, not {partition}.", nameof(partition));
    }

    public static void ValidateKey(string key)
    {
        if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > OutboxLimits.MaxKeyBytes)
            throw new ArgumentException($"Key must be 1 to {OutboxLimits.MaxKeyBytes} bytes.", nameof(key));
    }

    public static void ValidateText(string? value, string name, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > maxLength)
            throw new ArgumentException($"{name} must be 1 to {maxLength} characters.", name);
        if (value.Any(char.IsControl))
            throw new ArgumentException($"{name} must not contain control characters.", name);
    }
}
