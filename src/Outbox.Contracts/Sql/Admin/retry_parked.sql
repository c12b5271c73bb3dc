-- Un-parks the selected parked messages so the relay publishes them again, first in their key's order, and wakes the
-- partition's owner (delivered on commit). Attempts are kept: they count every refusal.
-- A retried row is released (deliver_at and parked_at null; the update trigger gives it this transaction as tx), and so
-- are the rows held behind it (deliver_at 'infinity'), up to the next row that still holds their key back: the relay's
-- change feed returns them all in one window, in id order, so no later message of the key is published before them.
-- An operator's change is durable even on the relay's pool, which commits asynchronously.
set local synchronous_commit = on;
with retried as (
    update outbox.messages
    set parked_at = null, park_reason = null, deliver_at = null
    where partition = @partition and parked_at is not null
      and (@id::bigint is null or id = @id)
      and (@key::text is null or key = @key)
    returning id, key
),
released as (
    update outbox.messages m
    set deliver_at = null
    where m.partition = @partition and m.deliver_at = 'infinity' and m.parked_at is null
      and m.key in (select key from retried)
      -- A lookup per held row in messages_blockers: written as a scalar subquery, which PostgreSQL does not turn into an
      -- anti join. As one, statistics from before the partition had schedules or parked rows made it scan all of the
      -- partition's blockers for every held row (320 held rows, 200,000 schedules: 2.3 s, against milliseconds).
      and not (select exists (select 1 from outbox.messages b
                              where b.partition = @partition and b.key = m.key and b.id < m.id
                                and b.id not in (select id from retried)
                                and (b.parked_at is not null or (b.deliver_at > now() and b.deliver_at < 'infinity'))))
    returning 1
)
select (select count(*) from retried), (select count(*) from (select pg_notify('outbox_drain', @partition::text)) n),
       (select count(*) from released);
