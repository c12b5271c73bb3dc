-- Claims a batch's events for the group, in the transaction that applies them: the primary key makes a copy of
-- an event already recorded (committed by this or any earlier attempt, or by a consumer that still held the
-- partition) come back without its id, and a copy being applied right now by another member waits for that
-- transaction and then comes back without its id too. Rows are inserted in Kafka order, so two members claiming
-- overlapping batches lock in the same order and cannot deadlock.
insert into inbox.received (consumer_group, event_id, topic, key, sequence, outbox_partition)
select @group, e.event_id, @topic, e.key, e.sequence, e.outbox_partition
from unnest(@event_ids::uuid[], @keys::text[], @sequences::bigint[], @outbox_partitions::int[])
         with ordinality as e(event_id, key, sequence, outbox_partition, n)
order by e.n
on conflict do nothing
returning event_id;
