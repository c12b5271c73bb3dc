-- The baseline poller's read (Bench/BaselinePoller.cs): the oldest rows of the whole outbox, whatever their partition.
select partition, id, event_id, topic, key, payload, headers::text, event_type, created_at
from outbox.messages
order by id
limit @limit;
