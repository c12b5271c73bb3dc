-- The baseline poller's removal: every acknowledged row of a poll in one statement, found by the primary key
-- (partition, id), which is what the table offers (an id alone would have no index to use).
delete from outbox.messages m
using unnest(@partitions::int[], @ids::bigint[]) x(partition, id)
where m.partition = x.partition and m.id = x.id;
