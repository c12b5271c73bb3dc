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
}
