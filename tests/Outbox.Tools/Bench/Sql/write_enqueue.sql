-- The write scenario's outbox variant: the same event through outbox.enqueue (validation, partition, insert).
select outbox.enqueue(@topic, @key, @payload, @headers::jsonb, event_type => 'order-changed');
