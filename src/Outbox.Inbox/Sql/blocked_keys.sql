-- Keys with a failed (or waiting) event parked: their later events wait behind it. inbox.parked is small.
select distinct p.key
from inbox.parked p
where p.consumer_group = @group and p.topic = @topic and p.key = any(@distinct_keys::text[]) and p.reason <> 'late';
