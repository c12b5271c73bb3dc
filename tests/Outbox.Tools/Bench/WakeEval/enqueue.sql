\set k random(1, 10000)
begin;
update orders set version = version + 1 where id = 'order-' || :k;
select outbox.enqueue('orders', 'order-' || :k, convert_to('{"order":"order-' || :k || '"}', 'UTF8'),
                      '{"version":"1"}', event_type => 'order-changed');
commit;
