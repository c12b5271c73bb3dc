-- The write scenario's comparison table: the outbox's shape (columns, defaults, identity, indexes, storage
-- settings) with no relay and no function in front of it, so a plain INSERT into it is what the same row costs a
-- business transaction when nothing of the outbox runs.
drop table if exists bench_plain_messages;
create table bench_plain_messages (like outbox.messages including all);
