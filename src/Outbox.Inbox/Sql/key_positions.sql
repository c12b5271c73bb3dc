-- Each key's position: the highest sequence the group recorded for it before this batch (the batch's own rows,
-- claimed a statement earlier, are left out). One backward step of received_key_position per key.
select k.key,
       (select r.sequence
        from inbox.received r
        where r.consumer_group = @group and r.topic = @topic and r.key = k.key and r.sequence is not null
          and r.event_id <> all(@event_ids::uuid[])
        order by r.sequence desc
        limit 1)
from unnest(@distinct_keys::text[]) as k(key);
