-- The silo's periodic look at the partitions it holds, one statement for all of them (every Relay:SweepInterval, so
-- its cost is a few index probes per partition every few seconds, none in between):
-- * whether each activation's epoch is still current and the silo still its owner (an idle activation of a silo that
--   was declared dead learns here that it was fenced);
-- * when each partition's earliest scheduled row is due (its releases, and its durable reminder);
-- * held rows (deliver_at 'infinity') with nothing holding their key back before them any more (no parked row, no row
--   scheduled for later), because that row was deleted or changed by hand rather than through the operator tools: they
--   are put back on the feed (the update trigger gives them this statement's tx), where their order is checked again.
with mine as materialized (
    select r.partition, r.epoch,
           exists (select 1 from outbox.partitions p
                   where p.partition = r.partition and p.epoch = r.epoch and p.owner = @owner) as current
    from unnest(@partitions::int[], @epochs::bigint[]) r(partition, epoch)
),
strays as (
    -- The held-back test is a subquery per held row (in the select list, so it cannot become an anti join) and the
    -- lateral a fence (offset 0): as an anti join, statistics from before the partition had schedules or parked rows
    -- made a full scan of messages_blockers per held row look cheap (20,000 held rows, 200,000 schedules: more than a
    -- minute per sweep, against milliseconds). The update finds its rows by physical address, as maintain.sql's do.
    update outbox.messages m
    set deliver_at = null
    where m.ctid = any(array(
        select h.ctid
        from mine c
        cross join lateral (
            select h.ctid,
                   exists (select 1 from outbox.messages b
                           where b.partition = h.partition and b.key = h.key and b.id < h.id
                             and (b.parked_at is not null or (b.deliver_at > now() and b.deliver_at < 'infinity'))) as held_back
            from outbox.messages h
            where c.current and h.partition = c.partition and h.deliver_at = 'infinity'
            offset 0) h
        where not h.held_back))
    returning 1
)
select c.partition, c.current,
       (select extract(epoch from min(s.deliver_at) - now())::float8 from outbox.messages s
        where s.partition = c.partition and s.deliver_at is not null and s.deliver_at < 'infinity'),
       (select count(*) from strays)
from mine c;
