-- The change feed of a silo (Relay/RelayReader.cs): the rows of its partitions that became publishable since the
-- previous feed statement. Cost follows rows: with nothing new it is a snapshot and two empty index probes, whatever
-- the number of partitions, silos or open transactions.
-- Invariants:
-- * The window is (previous snapshot, this snapshot]: rows whose tx (014_change_feed.sql) is visible now and was not
--   then, found by two index scans of messages_tx: tx in [previous xmax, this xmax) (transactions that started since;
--   the running ones among them are invisible now and listed in this snapshot's xip), and tx among the previous
--   snapshot's running transactions that have finished (late commits, savepoints included since tx is the top-level
--   id). A transaction that was running then and still is now is not looked at: one left open costs nothing.
-- * Only rows of partitions this silo owns (outbox.partitions.owner = @owner, set on activation) are returned, with the
--   partition's current epoch: a silo that was declared dead reads nothing once another one took its partitions over,
--   and one that took them back under the same name drops what its stale activations would have read.
-- * Each returned row says what the reader must do with it: publish it (a plain row), leave it (scheduled, parked, or
--   its partition paused), or have it wait behind an earlier row of its key that is scheduled, held or parked
--   (blocked: the reader's next maintenance statement holds it, or releases it with that row, see maintain.sql). Payloads come only with rows to
--   publish.
-- * Each scan is limited: more rows than @limit in one window (a bulk insert) is an overflow, after which the reader
--   has every partition read itself from its first row instead.
-- The first row is a header: this snapshot (xmax, running list), the database's incarnation, and whether it
-- overflowed.
with snap as materialized (
    select pg_current_snapshot() as s
),
finished as materialized (
    select coalesce(array_agg(x::text::xid8), '{}') as txs
    from unnest(@prev_xip::bigint[]) x, snap
    where pg_visible_in_snapshot(x::text::xid8, snap.s)
),
feed_window as materialized (
    -- Two index scans of messages_tx, each limited and ordered by tx, so that no statistics can make the planner prefer
    -- reading the whole table: a bulk load (one transaction, so few distinct tx values) makes `tx = any(...)` look like
    -- most of the table, and without the order a sequential scan would win while a drain runs.
    (select m.partition, m.id, m.event_id, m.topic, m.key, m.payload, m.headers, m.event_type, m.created_at,
            m.traceparent, m.tracestate, m.tx, m.deliver_at, m.parked_at
     from outbox.messages m
     where @window and m.tx >= (@prev_xmax::text)::xid8 and m.tx < pg_snapshot_xmax((select s from snap))
     order by m.tx
     limit @limit + 1)
    union all
    (select m.partition, m.id, m.event_id, m.topic, m.key, m.payload, m.headers, m.event_type, m.created_at,
            m.traceparent, m.tracestate, m.tx, m.deliver_at, m.parked_at
     from outbox.messages m
     where @window and m.tx = any((select txs from finished)::xid8[])
     order by m.tx
     limit @limit + 1)
)
select null::int as partition, null::bigint as id, null::uuid as event_id, null::text as topic, null::text as key,
       null::bytea as payload, null::text as headers, null::text as event_type, null::timestamptz as created_at,
       null::text as traceparent, null::text as tracestate, null::bigint as epoch, null::text as state,
       null::float8 as due_in,
       pg_snapshot_xmax(snap.s)::text::bigint as xmax,
       array(select x::text::bigint from pg_snapshot_xip(snap.s) x) as xip,
       pg_postmaster_start_time() as incarnation,
       (select count(*) from feed_window) > @limit as overflow
from snap
union all
select m.partition, m.id, m.event_id, m.topic, m.key, case when m.state = 'publish' then m.payload end,
       case when m.state = 'publish' then m.headers::text end, m.event_type, m.created_at, m.traceparent, m.tracestate,
       m.epoch, m.state,
       case when m.state = 'scheduled' then extract(epoch from m.deliver_at - now())::float8 end, null, null, null, null
from (select w.*, p.epoch,
             case when p.paused then 'paused'
                  when w.parked_at is not null or w.deliver_at = 'infinity' then 'parked'
                  when w.deliver_at is not null then 'scheduled'
                  when exists (select 1 from outbox.messages b
                               where b.partition = w.partition and b.key = w.key and b.id < w.id
                                 and (b.deliver_at is not null or b.parked_at is not null)) then 'blocked'
                  else 'publish' end as state
      from feed_window w
      -- A lookup per row (not a join the planner could hash): the cost follows rows, not partitions.
      cross join lateral (select p.paused, p.epoch from outbox.partitions p
                          where p.partition = w.partition and p.owner = @owner) p
      offset 0) m;
