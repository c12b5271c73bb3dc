namespace Outbox.Grains.Relay;

/// <summary>How the relay publishes to Kafka (<c>Relay:Delivery</c>).</summary>
public enum DeliveryMode
{
    /// <summary>
    /// One idempotent producer per silo: nothing is lost, and a crash between Kafka's acknowledgement and the
    /// row's removal re-publishes that batch (duplicates carry the same event id).
    /// </summary>
    AtLeastOnce,

    /// <summary>
    /// A transactional producer per partition: each batch and a progress record commit in one Kafka transaction,
    /// reconciled on activation, so read-committed consumers see every row once. See docs/exactly-once.md.
    /// </summary>
    ExactlyOnce,
}
