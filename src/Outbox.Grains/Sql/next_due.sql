-- The partition's reminder: how long (in the database's clock, so relay clocks do not matter) until its
-- earliest scheduled message falls due; null when nothing is scheduled.
select extract(epoch from min(deliver_at) - now())::float8
from outbox.messages
where partition = @partition and deliver_at > now() and parked_at is null;
