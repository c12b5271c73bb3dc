using Confluent.Kafka;

namespace Outbox.Grains.ExactlyOnce;

/// <summary>
/// What the exactly-once mode is started with: how to reach Kafka for the admin client and the progress
/// reader (brokers and security settings only), the relay's producer settings each partition's transactional
/// producer starts from, and the deployment's outbox partition count (the progress topic's minimum size).
/// </summary>
internal sealed record ExactlyOnceHost(ClientConfig Connection, ProducerConfig ProducerSettings, int OutboxPartitions);
