using System.ComponentModel.DataAnnotations;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// Settings of the exactly-once mode (<c>Relay:Delivery=ExactlyOnce</c>). Section "ExactlyOnce". Two deployments
/// that share one Kafka cluster must differ in both names, or their partitions fence each other's producers.
/// </summary>
public sealed class ExactlyOnceOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string Section = "ExactlyOnce";

    /// <summary>
    /// Each outbox partition's producer uses <c>{prefix}-{partition}</c> as its transactional.id: stable across
    /// silos, so the next owner's InitTransactions fences the previous one on a real broker.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9._-]{1,200}$", ErrorMessage = "ExactlyOnce:TransactionalIdPrefix must be 1-200 characters of A-Z a-z 0-9 . _ -.")]
    public string TransactionalIdPrefix { get; set; } = "outbox-relay";

    /// <summary>
    /// Compacted topic holding, per outbox partition, the last committed transaction's epoch and row ids. Created
    /// at start-up if missing (one Kafka partition per outbox partition).
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [RegularExpression("^[A-Za-z0-9._-]{1,249}$", ErrorMessage = "ExactlyOnce:ProgressTopic must be a Kafka topic name (1-249 characters of A-Z a-z 0-9 . _ -).")]
    public string ProgressTopic { get; set; } = "outbox-relay-progress";

    /// <summary>
    /// transaction.timeout.ms: how long the broker lets a transaction stay open before aborting it (a crashed
    /// owner's open transaction ends at the latest then). Must not exceed the brokers' transaction.max.timeout.ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for Kafka while creating the progress topic or reading a partition's last progress record.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan AdminTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
