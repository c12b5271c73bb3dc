-- Completes published batches of any number of the silo's partitions in one statement (Relay/RelayCompleter.cs):
-- removes the rows Kafka acknowledged (copying them to outbox.published when audit retention is on), parks the rows
-- Kafka refused for good, and marks the rows held behind a parked one ('infinity': they wait until an operator
-- retries or discards it). Each partition's part is done only while its epoch is still current.
-- Invariants:
-- * The fence: partitions.epoch is read FOR SHARE, so a new owner's epoch bump (activate_partition.sql) waits for this
--   statement, and this statement sees a bump that came first: a zombie's writes are refused, per partition.
-- * Rows are named by id and event id together: after the database went back in time (a failover to a standby that
--   missed transactions, a sequence set back) an id may name another, unpublished message, which must stay. A null
--   event id (a progress record of an older version, see ExactlyOnce/ProgressRecord.cs) matches by id alone.
-- * Idempotent: a completion whose commit outcome was unknown is sent again; removing removed rows removes nothing,
--   a parked row is not parked (nor its attempts counted) twice, a marked row is not marked again.
with req as materialized (
    select * from unnest(@partitions::int[], @epochs::bigint[]) r(partition, epoch)
),
fence as materialized (
    select p.partition
    from outbox.partitions p
    join req r on r.partition = p.partition and r.epoch = p.epoch
    for share of p
),
published as (
    delete from outbox.messages m
    using unnest(@published_partitions::int[], @published_ids::bigint[], @published_events::uuid[]) x(partition, id, event_id)
    where m.partition = x.partition and m.id = x.id and (x.event_id is null or m.event_id = x.event_id)
      and x.partition in (select partition from fence)
    returning m.partition, m.id
),
-- Every part of one statement sees the table as it was before the statement, so the audit copy reads the deleted rows
-- from outbox.messages itself (the delete returns only ids: carrying payloads through it made completions slower).
audited as (
    insert into outbox.published (partition, id, event_id, topic, key, payload, headers, event_type,
                                  created_at, traceparent, tracestate)
    select m.partition, m.id, m.event_id, m.topic, m.key, m.payload, m.headers, m.event_type, m.created_at,
           m.traceparent, m.tracestate
    from outbox.messages m
    join published d on d.partition = m.partition and d.id = m.id
    where @audit
    on conflict do nothing
    returning 1
),
parked as (
    update outbox.messages m
    set parked_at = now(), park_reason = x.reason, attempts = m.attempts + 1
    from unnest(@parked_partitions::int[], @parked_ids::bigint[], @parked_events::uuid[], @parked_reasons::text[])
         x(partition, id, event_id, reason)
    where m.partition = x.partition and m.id = x.id and m.event_id = x.event_id and m.parked_at is null
      and x.partition in (select partition from fence)
    returning m.partition
),
held as (
    update outbox.messages m
    set deliver_at = 'infinity'
    from unnest(@held_partitions::int[], @held_ids::bigint[], @held_events::uuid[]) x(partition, id, event_id)
    where m.partition = x.partition and m.id = x.id and m.event_id = x.event_id
      and m.deliver_at is null and m.parked_at is null
      and x.partition in (select partition from fence)
    returning 1
),
-- For status and gauges; written at most once a second per partition, not once per batch.
stamped as (
    update outbox.partitions p
    set last_published_at = now()
    where p.partition in (select partition from published)
      and (p.last_published_at is null or p.last_published_at < now() - interval '1 second')
    returning 1
)
select r.partition,
       exists (select 1 from fence f where f.partition = r.partition) as current,
       (select count(*) from published d where d.partition = r.partition) as removed,
       (select count(*) from parked k where k.partition = r.partition) as parked
from req r;
