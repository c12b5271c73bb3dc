using System.Text;

namespace Outbox.Contracts.Admin;

/// <summary>Bounds on operator input: everything an admin call takes is checked before it reaches SQL (as a parameter).</summary>
public static class AdminLimits
{
    /// <summary>The schema allows at most 4096 partitions.</summary>
    public const int MaxPartition = 4095;

    /// <summary>Most parked messages one list call returns.</summary>
    public const int MaxListLimit = 1000;

    /// <summary>Widest id range one replay may cover, so a typo cannot copy the whole audit table at once.</summary>
    public const long MaxReplayRange = 1_000_000;

    /// <summary>Longest reason an operator may record with a discard.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>Longest operator name recorded with a discard.</summary>
    public const int MaxOperatorLength = 200;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="partition"/> is 0 to <see cref="MaxPartition"/>.</summary>
    public static void ValidatePartition(int partition)
    {
        if (partition is < 0 or > MaxPartition)
            throw new ArgumentException($"Partition must be between 0 and {MaxPartition}, not {partition}.", nameof(partition));
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is 1 to <see cref="OutboxLimits.MaxKeyBytes"/> UTF-8 bytes.</summary>
    public static void ValidateKey(string key)
    {
        if (key.Length == 0 || Encoding.UTF8.GetByteCount(key) > OutboxLimits.MaxKeyBytes)
            throw new ArgumentException($"Key must be 1 to {OutboxLimits.MaxKeyBytes} bytes.", nameof(key));
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <paramref name="name"/>) unless <paramref name="value"/> has 1 to
    /// <paramref name="maxLength"/> characters, not all white space, and no control characters.
    /// </summary>
    public static void ValidateText(string? value, string name, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > maxLength)
            throw new ArgumentException($"{name} must be 1 to {maxLength} characters.", name);
        if (value.Any(char.IsControl))
            throw new ArgumentException($"{name} must not contain control characters.", name);
    }
}
