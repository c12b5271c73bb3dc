-- The change probe: which of the given partitions have rows committed since the silo last looked, found outside
-- every writer's transaction (the writers pay nothing for it). One statement per probe, a few index probes per
-- partition, and none at all while no transaction has finished since the previous probe.
-- Invariants:
-- * Nothing can have become visible unless some transaction finished since the previous probe's snapshot: its
--   xmax (latest completed transaction + 1) moved, or a transaction then in progress (@previous_xip) has finished.
--   Otherwise the partitions are not even looked at (changed = false).
-- * newest: the highest visible id above the partition's mark, by a backward range scan of the primary key that
--   stops at the first visible row. Above the mark are only rows inserted since (the mark only passes ids that
--   were seen or are settled), so the scan is short.
-- * late: a row at or below the mark and above the settled horizon (@settled) whose inserting transaction was in
--   progress at the previous probe and has finished now: a transaction that committed out of id order. Its xmin
--   is matched as a 32-bit xid. A row written in a subtransaction (savepoint) carries that subtransaction's xid
--   and is not matched here: the partition's next wake or its sweep reads it.
-- Every row also carries this statement's snapshot and the last id handed out (Storage/SettledHorizon.cs).
with snapshot as materialized (
    select pg_current_snapshot() as s
),
running as materialized (
    select outbox.running_transactions(snapshot.s) as xids from snapshot
),
finished as materialized (
    select x % 4294967296 as xid
    from unnest(@previous_xip::bigint[]) x, snapshot
    where pg_visible_in_snapshot(x::text::xid8, snapshot.s)
),
probe as materialized (
    select pg_snapshot_xmax(s)::text::bigint <> @previous_xmax or exists (select 1 from finished) as changed,
           s
    from snapshot
)
select w.partition,
       case when probe.changed then
           (select m.id from outbox.messages m
            where m.partition = w.partition and m.id > w.mark
            order by m.id desc limit 1) end,
       case when probe.changed and exists (select 1 from finished) then
           exists (select 1 from outbox.messages m
                   where m.partition = w.partition and m.id > @settled and m.id <= w.mark
                     and m.xmin::text::bigint in (select xid from finished)) end,
       (select case when is_called then last_value else last_value - 1 end from outbox.messages_id_seq),
       pg_snapshot_xmin(probe.s)::text::bigint, pg_snapshot_xmax(probe.s)::text::bigint,
       (select xids from running)
from unnest(@partitions::int[], @marks::bigint[]) as w(partition, mark), probe;
