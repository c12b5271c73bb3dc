-- The partition's reminder: how long (in the database's clock, so relay clocks do not matter) until its next
-- scheduled message can be published; null when there is none, or the partition is paused or fenced (a
-- resume notifies). Zero when one fell due after the last read (the relay drains again at once instead of
-- sleeping a whole sweep). Rows held back behind a parked message or an earlier, still-scheduled message of
-- their key are not counted: they cannot be published before that one, and counting them would spin.
-- greatest() skips nulls, so the null of "nothing scheduled" must be kept explicitly, or the relay would spin.
-- The answer is clamped to [0, 1 day] before any subtraction: a row written before deliver_at was validated
-- ('infinity', year 200000) must not make this query fail, which would stop the partition's drains for good.
select case when min(m.deliver_at) is null then null
            else extract(epoch from greatest(least(min(m.deliver_at), now() + interval '1 day'), now()) - now())::float8 end
from outbox.messages m
where m.partition = @partition
  and m.deliver_at is not null and m.parked_at is null
  and exists (select 1 from outbox.partitions p
              where p.partition = @partition and p.epoch = @epoch and not p.paused)
  and not exists (select 1 from outbox.messages b
                  where b.partition = m.partition and b.key = m.key and b.id < m.id
                    and (b.deliver_at is not null or b.parked_at is not null)
                    and (b.parked_at is not null or b.deliver_at > now()));
