-- Inserts a batch of messages in one round trip, in the order given. The partition comes from
-- outbox.partition_of, so every writer agrees on it. Nothing but the INSERT happens in the writer's commit:
-- the relay's change probe finds the rows (no NOTIFY, unless outbox.notify_on_enqueue = on opts back in).
-- The table's statement trigger takes the transaction id before the rows draw their ids, which the relay's read
-- position relies on: see 013_quiet_enqueue.sql.
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
    select outbox.partition_of(b.key), b.event_id, b.topic, b.key, b.payload, b.headers, b.event_type, b.deliver_at,
           b.traceparent, b.tracestate
    from batch b
    order by b.ord
    returning partition
),
notified as (
    select pg_notify('outbox_drain', partition::text)
    from (select distinct partition from inserted) written
    where current_setting('outbox.notify_on_enqueue', true) = 'on'
)
select (select count(*) from inserted), (select count(*) from notified);
