-- Pauses or resumes a partition. The relay checks the flag on every read, so a pause takes effect after the
-- batch in flight; a resume wakes the owner at once (NOTIFY, delivered on commit). 0 rows changed: no such
-- partition.
-- An operator's change is durable even on the relay's pool, which commits asynchronously.
set local synchronous_commit = on;
with changed as (
    update outbox.partitions set paused = @paused
    where partition = @partition
    returning partition
),
notified as (
    select pg_notify('outbox_drain', partition::text) from changed where not @paused
)
select (select count(*) from changed), (select count(*) from notified);
