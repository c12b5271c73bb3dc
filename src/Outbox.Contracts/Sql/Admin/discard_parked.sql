-- Gives up on the selected parked messages: moves them to outbox.discarded with who, when and why (the audit
-- record), in one statement, and wakes the partition's owner so later messages of their keys flow again.
-- The first remaining message of each discarded key is marked due (deliver_at, if it had none, becomes now): the
-- relay's read position may be past the messages held back behind the discarded one, and a due row below the
-- position is where the relay's next read begins (read_batch.sql), so they are read in their order.
-- An operator's change is durable even on the relay's pool, which commits asynchronously.
set local synchronous_commit = on;
with moved as (
    delete from outbox.messages m
    where m.partition = @partition and m.parked_at is not null
      and (@id::bigint is null or m.id = @id)
      and (@key::text is null or m.key = @key)
    returning m.*
),
audited as (
    insert into outbox.discarded (partition, id, event_id, topic, key, payload, headers, event_type, created_at,
                                  park_reason, attempts, discarded_by, reason)
    select partition, id, event_id, topic, key, payload, headers, event_type, created_at,
           park_reason, attempts, @discarded_by, @reason
    from moved
    returning 1
),
released as (
    update outbox.messages m
    set deliver_at = coalesce(m.deliver_at, now())
    where m.partition = @partition
      and m.id in (select min(r.id) from outbox.messages r
                   where r.partition = @partition and r.key in (select key from moved)
                     and r.id not in (select id from moved)
                   group by r.key)
    returning 1
)
select (select count(*) from audited), (select count(*) from (select pg_notify('outbox_drain', @partition::text)) n);
