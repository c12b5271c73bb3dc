-- Un-parks the selected parked messages so the relay publishes them again, first in their key's order, and
-- wakes the partition's owner (delivered on commit). Attempts are kept: they count every refusal.
-- A retried row is marked due (deliver_at, if it had none, becomes now): the relay's read position may already be
-- past it, and a due row below the position is where the relay's next read begins (read_batch.sql), so no later
-- message of its key is read before it, even by a drain that is running now.
-- An operator's change is durable even on the relay's pool, which commits asynchronously.
set local synchronous_commit = on;
with retried as (
    update outbox.messages
    set parked_at = null, park_reason = null, deliver_at = coalesce(deliver_at, now())
    where partition = @partition and parked_at is not null
      and (@id::bigint is null or id = @id)
      and (@key::text is null or key = @key)
    returning id
)
select (select count(*) from retried), (select count(*) from (select pg_notify('outbox_drain', @partition::text)) n);
