namespace Outbox.Inbox;

/// <summary>
/// One hosted consumer's settings, bound from configuration (by default the "Inbox" section) and validated at
/// start-up by <see cref="InboxOptionsValidator"/>: a bad value stops the host with a message naming the key.
/// </summary>
public sealed class InboxOptions
{
    /// <summary>The configuration section <c>AddOutboxConsumer</c> binds when given the host's configuration root.</summary>
    public const string Section = "Inbox";

    /// <summary>Npgsql connection string of the service's database: the inbox tables live there, next to the business tables.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Connections of the consumer's own pool (one per partition in flight, plus retention and parked checks).</summary>
    public int MaxPoolSize { get; set; } = 8;

    /// <summary>Apply the inbox schema's missing migrations at start-up (off: a DBA applies <c>Schema/Migrations</c>).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Kafka <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; set; } = "";

    /// <summary>The Kafka consumer group, also the inbox's namespace: each group applies every event once.</summary>
    public string GroupId { get; set; } = "";

    /// <summary>Topics to consume.</summary>
    public IList<string> Topics { get; } = [];

    /// <summary>
    /// Further librdkafka properties for the consumer and the dead-letter producer (security.protocol, sasl.*,
    /// session.timeout.ms, auto.offset.reset, ...). Properties that would break the guarantee (automatic offset
    /// commits or stores, another group.id or bootstrap.servers) are refused at start-up.
    /// </summary>
    public IDictionary<string, string> Kafka { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Most events of one Kafka partition applied in one database transaction (fewer when fewer are waiting).</summary>
    public int MaxBatchSize { get; set; } = 100;

    /// <summary>Events read ahead per partition before the consumer pauses fetching it.</summary>
    public int MaxQueuedPerPartition { get; set; } = 1000;

    /// <summary>How often applied offsets are committed to Kafka (always also on a rebalance and at shutdown).</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Attempts of a failing handler for one event, with backoff, before the event is a poison event.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First wait after a failure; doubles (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest wait between two attempts (database outages are retried this often, forever).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What becomes of a poison event: parked in the inbox (its key waits) or sent to <see cref="DeadLetterTopic"/>.</summary>
    public PoisonEventAction PoisonEvents { get; set; } = PoisonEventAction.Park;

    /// <summary>Topic poison events are produced to when <see cref="PoisonEvents"/> is <see cref="PoisonEventAction.DeadLetter"/>.</summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>What becomes of an event whose sequence is below its key's position: parked (default) or applied.</summary>
    public LateEventAction LateEvents { get; set; } = LateEventAction.Park;

    /// <summary>
    /// How long recorded event ids are kept: longer than any redelivery window (Kafka's retention of the topics,
    /// if offsets may ever be reset). A copy arriving after its id was purged is applied again.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often expired ids are purged.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Rows one purge statement deletes (small batches keep locks and WAL bursts short).</summary>
    public int PurgeBatchSize { get; set; } = 1000;

    /// <summary>How often each partition looks for parked events an operator released (retried or discarded).</summary>
    public TimeSpan ParkedCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a revoked partition's batch in flight may take to finish before it is cancelled (not committed).</summary>
    public TimeSpan RevokeTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>What the inbox does with an event whose handler kept failing.</summary>
public enum PoisonEventAction
{
    /// <summary>Park it in inbox.parked with the error; later events of its key are parked behind it until an operator acts.</summary>
    Park,

    /// <summary>Produce it to the dead-letter topic and move on; later events of its key are applied (its order is broken, and counted).</summary>
    DeadLetter,
}

/// <summary>What the inbox does with an event whose sequence is below the last one applied for its key.</summary>
public enum LateEventAction
{
    /// <summary>Park it (reason late) for an operator; the key goes on.</summary>
    Park,

    /// <summary>Apply it out of order (counted and logged).</summary>
    Apply,
}
