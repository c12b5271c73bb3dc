using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Wake;

/// <summary>How the silo learns about committed rows. Bound from the "Wake" configuration section.</summary>
public sealed class WakeOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "Wake";

    /// <summary>
    /// How often the change probe looks for committed rows. Each probe is one statement; while nothing commits it
    /// touches no partition. Shorter means lower latency for more database statements.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// A transaction that has held back the settled horizon (and with it every partition's read position) this
    /// long is checked for a lock on outbox.messages; one without it holds no outbox id and is no longer waited for.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan LongTransactionCheck { get; set; } = TimeSpan.FromSeconds(1);
}
