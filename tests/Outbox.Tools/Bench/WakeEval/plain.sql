\set k random(1, 10000)
begin;
update orders set version = version + 1 where id = 'order-' || :k;
insert into bench_plain_messages (partition, event_id, topic, key, payload, headers, event_type)
values (:k % 64, gen_random_uuid(), 'orders', 'order-' || :k, convert_to('{"order":"order-' || :k || '"}', 'UTF8'),
        '{"version":"1"}', 'order-changed');
commit;
