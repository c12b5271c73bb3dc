-- Inserts a batch of messages in one round trip, in the order given: nothing but the INSERT happens in the writer's
-- transaction (the relay's change feed finds the rows after the commit; the insert trigger validates each row, records
-- its transaction, and sends a NOTIFY only where outbox.notify_on_enqueue = on). The partition is the key's murmur2
-- (@hashes, computed by the C# writer from the key's UTF-8 bytes with the function outbox.partition_of uses) modulo the
-- deployment's partition count, so every writer agrees and the database does not hash each key again.
insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at, traceparent, tracestate)
select b.hash % outbox.partition_count(), b.event_id, b.topic, b.key, b.payload, b.headers, b.event_type,
       b.deliver_at, b.traceparent, b.tracestate
from unnest(@hashes, @topics, @keys, @payloads, @headers::jsonb[], @event_types, @deliver_ats, @event_ids, @traceparents, @tracestates)
     with ordinality as b(hash, topic, key, payload, headers, event_type, deliver_at, event_id, traceparent, tracestate, ord)
order by b.ord;
