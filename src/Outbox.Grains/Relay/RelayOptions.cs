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

    /// <summary>
    /// Payload bytes read into one batch: a batch ends at the row that reaches this budget (always at least one
    /// row), so 1 MB payloads cannot make a batch of BatchSize rows weigh a gigabyte. A partition holds at most
    /// two batches (the one being completed and the next), so relay memory is bounded by about
    /// owned partitions x 2 x (BatchMaxBytes + one message), plus the producer queue (Kafka:QueueMaxKbytes).
    /// </summary>
    [Range(64 * 1024, 256 * 1024 * 1024)]
    public int BatchMaxBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Safety sweep: a partition drains at least this often even if every trigger was lost.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after a failed drain; doubles (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between two attempts after failures.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Least time between the starts of two of a silo's completion statements (each a durable commit) while no partition
    /// waiting for one has more rows to publish: the completions that arrive meanwhile share one commit. Delivery waits
    /// for none of it (Kafka has the rows already), and a partition with rows waiting is completed at once. Zero: back to
    /// back, as many commits as the database answers.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan CompletionInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>At-least-once (default) or exactly-once for read-committed consumers; see <see cref="DeliveryMode"/>.</summary>
    [EnumDataType(typeof(DeliveryMode))]
    public DeliveryMode Delivery { get; set; } = DeliveryMode.AtLeastOnce;

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

    /// <summary>
    /// Adds the <c>outbox-stages</c> header to every message: when the relay woke to the row, read it and produced it
    /// (Unix microseconds of the silo's clock), so a consumer can tell where the latency of a message went. For
    /// measurements (the benchmark turns it on); off by default, as it adds bytes to every message.
    /// </summary>
    public bool StageTimestamps { get; set; }

    /// <summary>How often each silo's keeper makes sure its assigned partitions are active (also on every membership change).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan KeeperInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the keeper waits for one ping before it gives up on it and pings again. A ping sent while the
    /// cluster still routes the partition to a silo that has just died can otherwise wait out Orleans' whole
    /// response timeout (30 s) and hold the partition's takeover that long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan KeeperPingTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
