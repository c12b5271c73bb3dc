using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Retention;

/// <summary>
/// How often and in what bites audit rows past Relay:AuditRetention are removed. Section "Retention".
/// Only used when Relay:AuditRetention is set (otherwise published rows are deleted at once, never copied).
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Retention";

    /// <summary>Time between purges. Each purge runs until nothing old is left.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Rows deleted per statement: small enough to keep locks and WAL bursts short.</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 5000;
}
