-- Empties the outbox between scenarios so each drain starts from a compact table and index, as a fresh
-- backlog would (a drained table's dead tuples would otherwise slow the next drain's first reads).
truncate outbox.messages;
