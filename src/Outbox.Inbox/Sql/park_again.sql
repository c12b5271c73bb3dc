-- A parked event failed again when applied: it stays parked as failed (its key waits behind it) until the next
-- request of an operator, with the new error and every attempt counted.
update inbox.parked
set reason = 'failed', error = @error, attempts = attempts + @attempts, retry_requested_at = null, parked_at = now()
where id = @id;
