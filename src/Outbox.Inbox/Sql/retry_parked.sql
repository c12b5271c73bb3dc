-- Asks the consumer that owns each selected event's Kafka partition to apply it again (it looks every
-- Inbox:ParkedCheckInterval). A failed event's key is applied in order from there on; a late one out of order.
update inbox.parked
set retry_requested_at = now()
where consumer_group = @group
  and (@id::bigint is null or id = @id)
  and (@topic::text is null or topic = @topic)
  and (@key::text is null or key = @key)
  and (@reason::text is null or reason = @reason);
