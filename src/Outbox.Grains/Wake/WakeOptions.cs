using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Wake;

/// <summary>How the silo learns about committed rows. Bound from the "Wake" configuration section.</summary>
public sealed class WakeOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string Section = "Wake";

    /// <summary>
    /// How often each silo's relay reader looks for committed rows (its change feed): one small statement while nothing
    /// commits, one statement for all the silo's partitions while rows flow. Shorter means lower latency for more
    /// database statements.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The probe interval once none of the silo's partitions received a row for a second: an idle silo's cost, and the
    /// longest a first row after a quiet spell waits before it is seen (the next ones are looked for every
    /// <see cref="ProbeInterval"/> again). Each probe costs the silo and the database a few tenths of a millisecond of
    /// CPU, so a 5 ms probe on an idle silo keeps about a tenth of a core busy; set it equal to
    /// <see cref="ProbeInterval"/> to buy the lowest latency for sparse traffic with that CPU. Never shorter than
    /// <see cref="ProbeInterval"/> (a longer probe interval is the idle one too).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan IdleProbeInterval { get; set; } = TimeSpan.FromMilliseconds(50);
}
