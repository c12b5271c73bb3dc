namespace Outbox.Inbox.Diagnostics;

/// <summary>
/// Every log event id the inbox writes, in one place (docs/inbox.md lists them for operators). The inbox owns the
/// 8xxx range, apart from the relay's catalogue (Outbox.Grains' OutboxEventId, 1xxx-7xxx), so one service may log
/// both. Ranges: 80xx the consumer and its partitions, 81xx retention, 82xx the schema. Ids never change meaning.
/// </summary>
public static class InboxEventId
{
    /// <summary>The consumer joined its group and consumes its topics (Information).</summary>
    public const int ConsumerStarted = 8001;

    /// <summary>Kafka assigned partitions to this consumer (Information).</summary>
    public const int PartitionsAssigned = 8002;

    /// <summary>Partitions were revoked: their batch in flight finished and its offsets were committed (Information).</summary>
    public const int PartitionsRevoked = 8003;

    /// <summary>Partitions were lost (the group moved on without this member): their work stopped, nothing was committed (Warning).</summary>
    public const int PartitionsLost = 8004;

    /// <summary>The consume loop stopped on an unexpected error; the health check turns unhealthy (Error).</summary>
    public const int ConsumerFailed = 8005;

    /// <summary>The Kafka client reported an error (Warning).</summary>
    public const int KafkaError = 8006;

    /// <summary>Committing offsets failed; the next commit (or the redelivery, absorbed by the inbox) covers it (Warning).</summary>
    public const int CommitFailed = 8007;

    /// <summary>A revoked partition's batch in flight did not finish within Inbox:RevokeTimeout and was cancelled, uncommitted (Warning).</summary>
    public const int RevokeTimedOut = 8008;

    /// <summary>librdkafka's own log line, from the consumer (Debug).</summary>
    public const int KafkaLog = 8009;

    /// <summary>A batch failed on the database (or another infrastructure error); it is retried with backoff, forever (Warning).</summary>
    public const int Retrying = 8010;

    /// <summary>The handler failed for an event; it is retried with backoff up to Inbox:MaxAttempts (Warning).</summary>
    public const int HandlerFailed = 8011;

    /// <summary>An event was parked: a poison event (its key waits), or a late one (Warning).</summary>
    public const int EventParked = 8012;

    /// <summary>A poison event was produced to the dead-letter topic; its key's later events go on (Warning).</summary>
    public const int EventDeadLettered = 8013;

    /// <summary>An event arrived with a sequence below its key's position: late, parked or applied by configuration (Warning).</summary>
    public const int LateEvent = 8014;

    /// <summary>A parked event was applied after an operator's retry, or after the failed event its key waited behind was resolved (Information).</summary>
    public const int ParkedApplied = 8015;

    /// <summary>Expired event ids were purged (Information).</summary>
    public const int Purged = 8101;

    /// <summary>A purge pass failed; the next interval retries (Warning).</summary>
    public const int PurgeFailed = 8102;

    /// <summary>Inbox schema migrations were applied at start-up (Information).</summary>
    public const int SchemaMigrated = 8201;
}
