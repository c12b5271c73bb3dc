-- The next due rows of one partition, in id order: an index range scan of the primary key from @start, the
-- partition's read position (Relay/ReadPosition.cs), so it does not walk the entries of rows removed since.
-- A row is held back while an earlier-or-same row of its key is parked (poison) or scheduled for later,
-- so nothing overtakes a blocked message of its own key. Nothing is read by a fenced (stale epoch) or
-- paused partition.
-- Invariants of the read position (every read of a drain begins there, so within one drain nothing overtakes):
-- * Below @start, every row was read, or its transaction is known finished and it never committed, or it is parked
--   or scheduled, or held back behind one of those. A transaction that commits late holds an id above @start.
-- * When a row below @start becomes publishable again (a scheduled message falls due; an operator retries a parked
--   one or discards its key's blocker: both mark the row due, so it is in messages_schedule), the read begins at
--   that row instead (first_due), so its key's later rows cannot be read before it.
-- * The rows of the batch being completed concurrently (@in_flight) are not read twice.
-- The byte budget: the window over octet_length (which reads the stored length, not the detoasted value) keeps
-- rows up to and including the one that reaches @max_bytes, so a batch is bounded in bytes as well as rows, and
-- always holds at least one row (a single message larger than the budget still moves).
-- The first row of the result is a header, not a message: where the read began, whether the partition could be
-- read at all (a paused or fenced read returns nothing and must not move the position), and the statement's own
-- snapshot (pg_current_snapshot is the statement's) with the last id handed out (Storage/SettledHorizon.cs).
with readable as materialized (
    select exists (select 1 from outbox.partitions p
                   where p.partition = @partition and p.epoch = @epoch and not p.paused) as ok
),
first_due as materialized (
    select least(@start, (
        select min(d.id) from outbox.messages d
        where d.partition = @partition and d.deliver_at <= now() and d.parked_at is null and d.id < @start
          and not (d.id = any(@in_flight))
          and not exists (select 1 from outbox.messages b
                          where b.partition = d.partition and b.key = d.key and b.id < d.id
                            and (b.deliver_at is not null or b.parked_at is not null)
                            and (b.parked_at is not null or b.deliver_at > now())))) as id
),
snapshot as materialized (
    select pg_current_snapshot() as s
),
running as materialized (
    select outbox.running_transactions(snapshot.s) as xids from snapshot
),
due as (
    select m.id, m.event_id, m.topic, m.key, m.payload, m.headers::text as headers, m.event_type, m.created_at,
           m.traceparent, m.tracestate
    from outbox.messages m
    where m.partition = @partition
      and m.id >= (select id from first_due)
      and (m.id > @in_flight_last or not (m.id = any(@in_flight)))
      and (select ok from readable)
      and not exists (select 1 from outbox.messages b
                      where b.partition = m.partition and b.key = m.key and b.id <= m.id
                        and (b.deliver_at is not null or b.parked_at is not null)
                        and (b.parked_at is not null or b.deliver_at > now()))
    order by m.id
    limit @limit
),
budgeted as (
    select due.*, sum(octet_length(due.payload)) over (order by due.id) - octet_length(due.payload) as bytes_before
    from due
)
select null::bigint, null::uuid, null::text, null::text, null::bytea, null::text, null::text, null::timestamptz,
       null::text, null::text,
       f.id, (select case when is_called then last_value else last_value - 1 end from outbox.messages_id_seq),
       pg_snapshot_xmin(s.s)::text::bigint, pg_snapshot_xmax(s.s)::text::bigint,
       (select xids from running), r.ok
from first_due f, snapshot s, readable r
union all
(select id, event_id, topic, key, payload, headers, event_type, created_at, traceparent, tracestate,
        null, null, null, null, null, null
 from budgeted
 where bytes_before < @max_bytes
 order by id);
