-- Gives up on the selected parked events: moves them to inbox.discarded with who, when and why, in one statement.
-- Their ids stay recorded in inbox.received, so a redelivered copy is skipped; a key that waited behind a
-- discarded failed event is released at the consumer's next parked check.
with moved as (
    delete from inbox.parked
    where consumer_group = @group
      and (@id::bigint is null or id = @id)
      and (@topic::text is null or topic = @topic)
      and (@key::text is null or key = @key)
      and (@reason::text is null or reason = @reason)
    returning *
)
insert into inbox.discarded (consumer_group, event_id, topic, kafka_partition, kafka_offset, key, sequence, event_type,
                             header_names, header_values, payload, reason, error, attempts, parked_at, discarded_by, discard_reason)
select consumer_group, event_id, topic, kafka_partition, kafka_offset, key, sequence, event_type,
       header_names, header_values, payload, reason, error, attempts, parked_at, @discarded_by, @discard_reason
from moved;
