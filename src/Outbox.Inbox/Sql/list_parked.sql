-- Parked events of a group, in the order they were parked (Kafka order per partition), optionally of one topic
-- and/or one key. An operator's query: inbox.parked is small and indexed by group.
select p.id, p.topic, p.kafka_partition, p.kafka_offset, p.event_id, p.key, p.sequence, p.event_type, p.reason, p.error,
       p.attempts, p.parked_at, p.retry_requested_at, octet_length(p.payload)
from inbox.parked p
where p.consumer_group = @group
  and (@topic::text is null or p.topic = @topic)
  and (@key::text is null or p.key = @key)
order by p.id
limit @limit;
