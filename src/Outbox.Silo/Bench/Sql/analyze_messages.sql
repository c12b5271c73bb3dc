-- Fresh statistics after a bulk load, as autovacuum would produce soon after a real backlog built up.
analyze outbox.messages;
