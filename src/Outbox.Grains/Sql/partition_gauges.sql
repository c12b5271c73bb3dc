-- The backlog gauges of the partitions one silo owns (@partitions), polled every Telemetry:StatusPollInterval.
-- Cheaper than status.sql at large backlogs (about 10x at a million rows): the row count is an index-only
-- scan of the primary key, scheduled and parked rows come from their small partial indexes, and the oldest
-- due row is the first one in id order (ids follow insertion order), not a min() over every row.
select p.partition,
       (select count(*) from outbox.messages m where m.partition = p.partition) as backlog,
       (select count(*) from outbox.messages m
         where m.partition = p.partition and m.deliver_at is not null and m.deliver_at > now() and m.deliver_at < 'infinity') as scheduled,
       (select count(*) from outbox.messages m
         where m.partition = p.partition and m.parked_at is not null
           and (m.deliver_at is not null or m.parked_at is not null)) as parked,
       (select extract(epoch from now() - m.created_at)::float8 from outbox.messages m
         where m.partition = p.partition and m.parked_at is null and (m.deliver_at is null or m.deliver_at <= now())
         order by m.id limit 1) as oldest_age_s
from outbox.partitions p
where p.partition = any(@partitions)
order by p.partition;
