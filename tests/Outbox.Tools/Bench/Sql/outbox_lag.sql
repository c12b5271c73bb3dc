-- The relay's backlog: rows still in the outbox, and the age in milliseconds of the oldest (created_at is its writer's
-- transaction start), 0 when empty.
select count(*), coalesce(extract(epoch from now() - min(created_at)) * 1000, 0)::float8 from outbox.messages;
