-- Whether the silos have placed every partition: partitions not owned by one of @owners, and the sum of the epochs
-- (it moves with every activation, so an unchanged sum means no partition changed hands meanwhile).
select count(*) filter (where owner is null or not (owner = any(@owners))), coalesce(sum(epoch), 0)::bigint
from outbox.partitions;
