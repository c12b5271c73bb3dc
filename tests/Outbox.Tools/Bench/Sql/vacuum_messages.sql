-- After a bulk load: statistics, hint bits and the visibility map set once, as autovacuum would soon do for
-- a real backlog, so the drain measured next does not race an insert-triggered autovacuum of the same rows.
vacuum analyze outbox.messages;
