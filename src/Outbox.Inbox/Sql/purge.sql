-- Removes up to @batch of the group's oldest recorded ids past the retention, skipping rows another purger holds
-- and events still parked (their record keeps a redelivered copy from being parked twice).
with expired as (
    select r.consumer_group, r.event_id
    from inbox.received r
    where r.consumer_group = @group and r.received_at < now() - @retention
      and not exists (select 1 from inbox.parked p where p.consumer_group = r.consumer_group and p.event_id = r.event_id)
    order by r.received_at
    limit @batch
    for update skip locked
)
delete from inbox.received r
using expired e
where r.consumer_group = e.consumer_group and r.event_id = e.event_id;
