-- Parked (poison) messages, per partition in id order, with how many later messages of the same key wait
-- behind each. Parked rows sit in the small messages_blockers index; the waiting count walks the key's rows
-- of one partition, which is fine for an operator's query and never runs on the relay's hot path.
select m.partition, m.id, m.event_id, m.topic, m.key, m.attempts, m.parked_at, m.park_reason,
       octet_length(m.payload) as payload_bytes, m.created_at,
       (select count(*) from outbox.messages w
        where w.partition = m.partition and w.key = m.key and w.id > m.id) as waiting
from outbox.messages m
where m.parked_at is not null
  and (@partition::int is null or m.partition = @partition)
  and (@key::text is null or m.key = @key)
order by m.partition, m.id
limit @limit;
