-- The classic poll: the next 100 unsent rows.
select id, topic, key, payload from naive.outbox where status = 'NEW' order by id limit 100;
