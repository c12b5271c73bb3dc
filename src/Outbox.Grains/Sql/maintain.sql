-- The work of a silo's relay cycle that the change feed (feed.sql) does not do, in one statement, run only when there
-- is some (Relay/RelayReader.cs): the next rows of partitions that are catching up (after activation, an overflow or a
-- change of database), the release of scheduled rows that fell due, and the marking of rows the feed found waiting
-- behind an earlier row of their key.
-- Invariants:
-- * Catch-up reads [cursor, ...) of a partition in id order, skipping scheduled, held and parked rows; a row whose
--   earlier row of its key is scheduled, held or parked waits with it (below) instead of being returned. The reader runs this statement and the feed one after the other on one connection, so each sees
--   everything the previous one saw: what a feed returned before a read began, the read returns again (the reader
--   drops those it holds), and what commits after the read's snapshot the next feed returns.
-- * A key's rows go in order: per key, the first row that still holds it back (parked, or scheduled for later) is its
--   stop. Release: the key's rows before its stop that wait (due scheduled rows, rows held behind an earlier row, rows
--   the feed or a read found blocked) get deliver_at null and this statement's transaction as tx, all together, so the
--   next feed window returns them in id order and none is blocked by another. Rows after the stop that the feed or a
--   read found blocked, and due rows after it, are held: deliver_at 'infinity' until their stop is released with them
--   (it falls due, or an operator retries or discards it). The feed re-checks every released row, so releasing too
--   early can only send a row back to wait, never past an earlier one.
-- * Rows the feed found blocked are named by id and event id together: after a failover an id may name another message.
-- * Nothing is read, released or marked in a partition this silo does not own (a stale epoch or owner) or that is
--   paused.
-- Result rows (kind): C a catch-up row; R a read's summary (number: the last id it covered; flag: it reached the end;
-- stale: the partition could not be read; due_in: seconds until its earliest scheduled row); N seconds until a
-- partition's next scheduled row is due (null: none; 0: more fell due than one statement releases).
with reads as materialized (
    select r.partition, r.cursor,
           exists (select 1 from outbox.partitions p
                   where p.partition = r.partition and p.epoch = r.epoch and p.owner = @owner and not p.paused) as readable
    from unnest(@read_partitions::int[], @read_epochs::bigint[], @read_cursors::bigint[]) r(partition, epoch, cursor)
),
read_candidates as materialized (
    select c.*,
           sum(octet_length(c.payload)) over (partition by c.partition order by c.id) - octet_length(c.payload) as bytes_before
    from (select r.partition, m.id, m.event_id, m.topic, m.key, m.payload, m.headers, m.event_type, m.created_at,
                 m.traceparent, m.tracestate, m.tx, m.ctid,
                 exists (select 1 from outbox.messages b
                         where b.partition = m.partition and b.key = m.key and b.id < m.id
                           and (b.deliver_at is not null or b.parked_at is not null)) as blocked
          from reads r
          cross join lateral (
              select m.ctid, m.* from outbox.messages m
              where r.readable and m.partition = r.partition and m.id >= r.cursor
                and m.deliver_at is null and m.parked_at is null
              order by m.id
              limit @read_limit) m) c
),
read_kept as materialized (
    select * from read_candidates where bytes_before < @read_bytes
),
owned as materialized (
    select r.partition
    from unnest(@release_partitions::int[]) r(partition)
    where exists (select 1 from outbox.partitions p where p.partition = r.partition and p.owner = @owner and not p.paused)
),
due as materialized (
    select d.partition, d.id, d.key, d.ctid
    from owned o
    cross join lateral (
        select d.partition, d.id, d.key, d.ctid from outbox.messages d
        where d.partition = o.partition and d.deliver_at <= now() and d.parked_at is null
        order by d.deliver_at
        limit @release_limit) d
),
waiting as materialized (
    -- The feed's blocked rows (if still unpublished and unmarked) and the reads' blocked rows.
    select m.partition, m.id, m.key, m.ctid
    from unnest(@mark_partitions::int[], @mark_ids::bigint[], @mark_events::uuid[]) k(partition, id, event_id)
    cross join lateral (
        select m.partition, m.id, m.key, m.ctid from outbox.messages m
        where m.partition = k.partition and m.id = k.id and m.event_id = k.event_id and m.deliver_at is null and m.parked_at is null
          and exists (select 1 from outbox.partitions p where p.partition = m.partition and p.owner = @owner)
        offset 0) m
    union
    select partition, id, key, ctid from read_kept where blocked
),
-- Per key, the first row that still holds the key back: parked, or scheduled for later. Everything of the key before
-- it (due rows, held rows, waiting rows) goes together; everything after it waits. The index scan stops at that row,
-- so the cost follows what is released, however long the key's queue of schedules.
stops as materialized (
    select k.partition, k.key,
           (select min(b.id) from outbox.messages b
            where b.partition = k.partition and b.key = k.key
              and (b.parked_at is not null or (b.deliver_at > now() and b.deliver_at < 'infinity'))) as stop_id
    from (select partition, key from due union select partition, key from waiting) k
),
-- The updates find their rows by physical address (a TID scan, whatever the planner estimates of the arrays); a row
-- updated meanwhile by someone else (an operator) has another address and is left for the next statement.
released as (
    update outbox.messages m
    set deliver_at = null, tx = pg_current_xact_id()
    where m.ctid = any(array(
        select b.ctid
        from stops s
        -- A lookup per key in messages_blockers (its predicate is spelled out so the planner uses it). The due test is
        -- wrapped in coalesce so that it does not prove `deliver_at is not null`: that lets the planner take
        -- messages_schedule (partition, deliver_at) instead, and filter the key over every scheduled row of the
        -- partition once per key, which statistics from before a bulk schedule make look cheap (200,000 schedules
        -- released 1,000 at a time: a minute per statement).
        cross join lateral (
            select b.ctid from outbox.messages b
            where b.partition = s.partition and b.key = s.key and (b.deliver_at is not null or b.parked_at is not null)
              and b.parked_at is null and coalesce(b.deliver_at <= now() or b.deliver_at = 'infinity', false)
              and (s.stop_id is null or b.id < s.stop_id)
            offset 0) b
        union
        select w.ctid
        from waiting w
        join stops s on s.partition = w.partition and s.key = w.key
        where s.stop_id is null or w.id < s.stop_id))
    returning m.partition
),
held as (
    update outbox.messages m
    set deliver_at = 'infinity'
    where m.ctid = any(array(
        select w.ctid
        from waiting w
        join stops s on s.partition = w.partition and s.key = w.key
        where w.id > s.stop_id
        union
        select d.ctid
        from due d
        join stops s on s.partition = d.partition and s.key = d.key
        where d.id > s.stop_id))
    returning m.partition
)
select 'C'::text as kind, c.partition, c.id, c.event_id, c.topic, c.key, c.payload, c.headers::text as headers,
       c.event_type, c.created_at, c.traceparent, c.tracestate, c.tx::text::bigint as tx,
       null::bigint as number, null::boolean as flag, null::boolean as stale, null::float8 as due_in
from read_kept c
where not c.blocked
union all
select 'R', r.partition, null, null, null, null, null, null, null, null, null, null, null,
       (select max(k.id) from read_kept k where k.partition = r.partition),
       (select count(*) from read_candidates c where c.partition = r.partition) < @read_limit
           and not exists (select 1 from read_candidates c where c.partition = r.partition and c.bytes_before >= @read_bytes),
       not r.readable,
       (select extract(epoch from min(s.deliver_at) - now())::float8 from outbox.messages s
        where s.partition = r.partition and s.deliver_at is not null and s.deliver_at < 'infinity')
from reads r
union all
select 'N', n.partition, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
       case when n.due >= @release_limit then 0
            -- The first future entry of messages_schedule, read in its order. A plan made while the table had no schedules
            -- found messages_blockers as cheap, and took every schedule of the partition from it (by min(), or sorted when
            -- the lower bound was an index condition); with the bound as a filter (in coalesce), messages_schedule is the
            -- index that needs no sort. It passes the due rows first: fewer than @release_limit, or this is not read.
            else extract(epoch from (select s.deliver_at from outbox.messages s
                                     where s.partition = n.partition and s.deliver_at is not null and s.deliver_at < 'infinity'
                                       and coalesce(s.deliver_at > now(), false)
                                     order by s.deliver_at limit 1)
                                 - now())::float8 end
-- Each partition's due rows counted in one pass: a count per partition over all of them took owned x due steps (0.5 s
-- for 64 partitions releasing 1,000 rows each, 6 s for 256: the square of the partitions).
from (select u.partition, count(*) filter (where u.due) as due
      from (select partition, false as due from owned union all select partition, true from due) u
      group by u.partition) n;
