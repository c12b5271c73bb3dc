-- Publishes audited messages again: copies outbox.published rows of an id range back into outbox.messages with
-- the same event id (consumers that deduplicate by it see the copy as a duplicate; the rest reprocess it).
-- They get new ids, in their original order, so each replayed message queues behind what its key already has
-- pending. Every partition written to is notified.
-- An operator's change is durable even on the relay's pool, which commits asynchronously.
set local synchronous_commit = on;
with source as (
    select partition, id, event_id, topic, key, payload, headers, event_type, traceparent, tracestate
    from outbox.published
    where id between @from_id and @to_id
      and (@partition::int is null or partition = @partition)
),
inserted as (
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, traceparent, tracestate)
    select partition, event_id, topic, key, payload, headers, event_type, traceparent, tracestate
    from source
    order by id
    returning partition
),
notified as (
    select pg_notify('outbox_drain', partition::text)
    from (select distinct partition from inserted) written
)
select (select count(*) from inserted), (select count(*) from notified);
