-- Inserts one message (the common case; enqueue_batch.sql inserts many): a plain INSERT, cheaper for the writer's
-- session to plan than the batch's unnest. The partition is the key's murmur2 (@hash, computed by the C# writer as
-- outbox.partition_of computes it) modulo the deployment's partition count; the insert trigger validates the row and
-- records its transaction.
insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at, traceparent, tracestate)
values (@hash % outbox.partition_count(), @event_id, @topic, @key, @payload, @headers::jsonb, @event_type, @deliver_at,
        @traceparent, @tracestate);
