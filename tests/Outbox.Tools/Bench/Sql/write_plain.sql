-- The write scenario's plain variant: the event row inserted directly, its partition computed by the caller.
insert into bench_plain_messages (partition, event_id, topic, key, payload, headers, event_type)
values (@partition, gen_random_uuid(), @topic, @key, @payload, @headers::jsonb, 'order-changed');
