namespace Outbox.Grains.Diagnostics;

/// <summary>
/// Every log event id the relay and its silo write, in one place (docs/observability.md lists them for
/// operators). Ids never change meaning; a retired id is not reused. Ranges: 1xxx the partition relay and
/// retention, 2xxx publishing, 3xxx the Kafka producer, 4xxx the silo's database connections, 6xxx exactly-once
/// delivery, 7xxx telemetry; 42xx of the 4xxx range is the cluster's mutual TLS. 5001-5011 belonged to the retired
/// Kafka consumer-group ownership engine. 8xxx belongs to the consuming end's own catalogue (Outbox.Inbox's InboxEventId).
/// </summary>
public static class OutboxEventId
{
    /// <summary>A partition's relay started with a new ownership epoch (Information).</summary>
    public const int PartitionActivated = 1001;

    /// <summary>A partition's relay stopped (Information).</summary>
    public const int PartitionDeactivated = 1002;

    /// <summary>A relay found its epoch fenced off by a newer owner and stopped (Warning).</summary>
    public const int PartitionFenced = 1003;

    /// <summary>Kafka refused a message for good: its row was parked, later rows of its key wait (Warning).</summary>
    public const int MessageParked = 1004;

    /// <summary>A partition's drain cycle stopped on an unexpected error; the activation deactivates (Error).</summary>
    public const int RelayFailed = 1005;

    /// <summary>Kafka acknowledged messages after an earlier message of their key failed: it holds them out of order (Warning).</summary>
    public const int AcknowledgedOutOfOrder = 1006;

    /// <summary>A partition is assigned to another silo now and hands itself over by live migration (Information).</summary>
    public const int PartitionMoving = 1007;

    /// <summary>A partition's ownership, placement or reminder check failed; the next cycle retries (Warning).</summary>
    public const int PartitionHousekeepingFailed = 1008;

    /// <summary>Keeping a partition active failed; the keeper retries on its next round (Warning).</summary>
    public const int KeeperPingFailed = 1020;

    /// <summary>A relay's attempt failed (database or Kafka away); it retries with backoff (Warning).</summary>
    public const int RelayRetrying = 1010;

    /// <summary>Retention removed expired audit rows (Information).</summary>
    public const int RetentionPurged = 1101;

    /// <summary>A retention pass failed; the next interval retries (Warning).</summary>
    public const int RetentionPurgeFailed = 1102;

    /// <summary>The producer refused a message before sending it (Warning).</summary>
    public const int ProduceRefused = 2001;

    /// <summary>The Kafka producer reported an error (Warning).</summary>
    public const int ProducerError = 3001;

    /// <summary>librdkafka's own log line, from the producer (Debug).</summary>
    public const int ProducerLibrdkafkaLog = 3002;

    /// <summary>The shared Kafka producer hit a fatal error and was replaced by a new one; batches in flight are retried on it (Error).</summary>
    public const int ProducerReplaced = 3003;

    /// <summary>The silo listens for outbox notifications (Information).</summary>
    public const int NotificationsListening = 4001;

    /// <summary>The notification connection was lost; it reconnects and the sweep covers the gap (Warning).</summary>
    public const int NotificationsLost = 4002;

    /// <summary>A wake (a notification) could not be passed on to its partition grain (Debug).</summary>
    public const int PartitionWakeFailed = 4003;

    /// <summary>The silo's relay reader (change feed and catch-up reads) runs, at start or again after a failure (Information).</summary>
    public const int ChangeFeedRunning = 4004;

    /// <summary>The relay reader failed (usually the database out of reach); it retries every second and loses nothing (Warning).</summary>
    public const int ChangeFeedFailed = 4005;

    /// <summary>
    /// The outbox database restarted or failed over: what the silo derived from it is dropped and every partition reads
    /// itself again from its first row (Warning).
    /// </summary>
    public const int DatabaseIncarnationChanged = 4006;

    /// <summary>More rows became publishable in one feed window than one statement reads (a bulk insert): partitions read themselves (Information).</summary>
    public const int ChangeFeedOverflow = 4007;

    /// <summary>Schema migrations were applied at start-up (Information).</summary>
    public const int SchemaMigrated = 4101;

    /// <summary>The outbox database is not reachable yet at start-up; waiting (Warning).</summary>
    public const int DatabaseWaiting = 4102;

    /// <summary>Mutual TLS is on for the cluster's traffic: this host's certificate and whom it trusts (Information).</summary>
    public const int ClusterTlsEnabled = 4201;

    /// <summary>A silo or cluster client showed a certificate the cluster's TLS does not trust; the connection was refused (Warning).</summary>
    public const int ClusterPeerRefused = 4202;

    /// <summary>The exactly-once progress topic was created at start-up (Information).</summary>
    public const int ProgressTopicCreated = 6001;

    /// <summary>A partition's transactional producer reported an error (Warning).</summary>
    public const int TransactionalProducerError = 6002;

    /// <summary>On activation, rows Kafka already had from the last committed transaction were removed, not published again (Information).</summary>
    public const int PartitionReconciled = 6003;

    /// <summary>A Kafka transaction was aborted; its rows are published again (Warning).</summary>
    public const int TransactionAborted = 6004;

    /// <summary>Committing a Kafka transaction failed and is retried (Warning).</summary>
    public const int TransactionCommitRetried = 6005;

    /// <summary>A partition's transactional producer failed (fenced or fatal); the next batch starts a new session (Warning).</summary>
    public const int TransactionalProducerLost = 6006;

    /// <summary>The partition gauges' poll failed; gauges keep their previous values (Warning).</summary>
    public const int GaugePollFailed = 7001;
}
