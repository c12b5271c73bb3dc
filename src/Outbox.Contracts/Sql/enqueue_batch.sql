-- Inserts a batch of messages in one round trip, in the order given, and notifies each partition it wrote
-- to (scheduled messages too: the owner re-arms its reminder). The partition comes from outbox.partition_of, so every writer agrees on it.
with batch as (
    select *
    from unnest(@topics, @keys, @payloads, @headers::jsonb[], @event_types, @deliver_ats, @event_ids,
                @traceparents, @tracestates)
         with ordinality as b(topic, key, payload, headers, event_type, deliver_at, event_id,
                              traceparent, tracestate, ord)
),
inserted as (
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at,
                                 traceparent, tracestate)
    select outbox.partition_of(key), event_id, topic, key, payload, headers, event_type, deliver_at,
           traceparent, tracestate
    from batch
    order by ord
    returning partition
),
notified as (
    select pg_notify('outbox_drain', partition::text)
    from (select distinct partition from inserted) written
)
select (select count(*) from inserted), (select count(*) from notified);
