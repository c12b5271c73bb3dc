-- The churn scenario's first held transaction: a business transaction that enqueued a message and was left open (idle in
-- transaction) for the whole run. It holds a transaction id and a lock on outbox.messages; its row is never committed.
select outbox.enqueue(@topic, 'churn-held', convert_to('{"held":true}', 'UTF8'));
