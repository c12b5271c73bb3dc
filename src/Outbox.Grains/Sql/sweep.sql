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
    update outbox.messages m
    set deliver_at = null
    from (select h.partition, h.id
          from mine c
          cross join lateral (
              select h.partition, h.id, h.key from outbox.messages h
              where c.current and h.partition = c.partition and h.deliver_at = 'infinity') h
          where not exists (select 1 from outbox.messages b
                            where b.partition = h.partition and b.key = h.key and b.id < h.id
                              and (b.parked_at is not null or (b.deliver_at > now() and b.deliver_at < 'infinity')))) s
    where m.partition = s.partition and m.id = s.id
    returning 1
)
select c.partition, c.current,
       (select extract(epoch from min(s.deliver_at) - now())::float8 from outbox.messages s
        where s.partition = c.partition and s.deliver_at is not null and s.deliver_at < 'infinity'),
       (select count(*) from strays)
from mine c;
