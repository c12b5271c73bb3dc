using Confluent.Kafka;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// What the host supplies for the exactly-once mode: how to reach Kafka for the admin client and the progress
/// reader (brokers and security settings only), the relay's producer settings each partition's transactional
/// producer starts from, and the deployment's outbox partition count (the progress topic's minimum size).
/// </summary>
public sealed record ExactlyOnceHost(ClientConfig Connection, ProducerConfig ProducerSettings, int OutboxPartitions);
