-- Keys with a failed (or waiting) event parked: their later events wait behind it. One probe of parked_key per key of
-- the batch, stopping at the key's first parked event that is not late: a key blocked by one failed event may have
-- every later event parked behind it (a distinct over those read them all, for every batch: 118 ms per batch with
-- 200,000 waiting, growing with them).
select k.key
from unnest(@distinct_keys::text[]) as k(key)
cross join lateral (
    select 1 from inbox.parked p
    where p.consumer_group = @group and p.topic = @topic and p.key = k.key and p.reason <> 'late'
    limit 1) p;
