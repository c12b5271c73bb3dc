using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.Relay;

/// <summary>How each partition relay drains. Bound from the "Relay" configuration section.</summary>
public sealed class RelayOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "Relay";

    /// <summary>Partitions of the deployment (outbox.settings); the host sets it from its outbox configuration.</summary>
    [Range(1, 4096)]
    public int PartitionCount { get; set; } = 64;

    /// <summary>Rows read, published and removed together. Larger batches amortise round trips.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1000;

    /// <summary>Safety sweep: a partition drains at least this often even if every trigger was lost.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after a failed drain; doubles (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between two attempts after failures.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Copy published rows to outbox.published for this long (zero: delete at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan AuditRetention { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Period of the durable reminder a partition with scheduled messages keeps registered. It only matters when
    /// no activation is running (after a failover or a full restart); grain timers give the accuracy. At least
    /// Orleans' ReminderOptions.MinimumReminderPeriod, which the relay lowers to 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each silo's keeper makes sure its assigned partitions are active (also on every membership change).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeeperInterval { get; set; } = TimeSpan.FromSeconds(1);
}
