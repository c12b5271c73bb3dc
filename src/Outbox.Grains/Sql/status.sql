-- Per partition: owner, epoch, pause flag, backlog (due + scheduled + held), oldest pending age, parked rows. Rows held
-- behind an earlier message of their key (deliver_at 'infinity') count in the backlog, not as scheduled.
-- Aggregates over the primary key per partition; meant for operators, not for a hot path.
select p.partition, p.owner, p.epoch, p.paused, p.activated_at, p.last_published_at,
       coalesce(m.backlog, 0) as backlog,
       coalesce(m.scheduled, 0) as scheduled,
       coalesce(m.parked, 0) as parked,
       extract(epoch from now() - m.oldest)::float8 as oldest_age_s
from outbox.partitions p
left join lateral (
    select count(*) as backlog,
           count(*) filter (where deliver_at > now() and deliver_at < 'infinity') as scheduled,
           count(*) filter (where parked_at is not null) as parked,
           min(created_at) filter (where parked_at is null and (deliver_at is null or deliver_at <= now())) as oldest
    from outbox.messages x where x.partition = p.partition
) m on true
where @partition is null or p.partition = @partition
order by p.partition;
