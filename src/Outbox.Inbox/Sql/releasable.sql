-- Parked events of one Kafka partition the consumer may apply now, in their Kafka order: those an operator asked
-- to retry, and waiting ones no longer behind a failed event of their key that nobody asked to retry (it was
-- discarded, or is retried first). A late one is applied only on an operator's request and blocks nothing.
select p.id, p.event_id, p.kafka_partition, p.kafka_offset, p.key, p.sequence, p.outbox_partition, p.event_type,
       p.header_names, p.header_values, p.payload, p.reason, p.attempts
from inbox.parked p
where p.consumer_group = @group and p.topic = @topic and p.kafka_partition = @kafka_partition
  and (p.retry_requested_at is not null or p.reason = 'waiting')
  and (p.reason = 'late' or not exists (
        select 1 from inbox.parked b
        where b.consumer_group = p.consumer_group and b.topic = p.topic and b.key = p.key and b.id < p.id
          and b.reason = 'failed' and b.retry_requested_at is null))
order by p.id
limit @limit;
