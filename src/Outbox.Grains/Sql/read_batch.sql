-- The next due rows of one partition, in id order: an index range scan of the primary key.
-- A row is held back while an earlier-or-same row of its key is parked (poison) or scheduled for later,
-- so nothing overtakes a blocked message of its own key. Nothing is read by a fenced (stale epoch) or
-- paused partition. Rows are never skipped for good by a high-water mark: each is removed individually once
-- acknowledged, and @after only lets the reads within one drain continue where the previous batch ended
-- (every drain's first read passes 0). A transaction that commits late (a lower id becoming visible after
-- a higher one) sends its NOTIFY on commit, which starts another drain from the partition's first row.
-- The byte budget: the window over octet_length (which reads the stored length, not the detoasted value) keeps
-- rows up to and including the one that reaches @max_bytes, so a batch is bounded in bytes as well as rows, and
-- always holds at least one row (a single message larger than the budget still moves).
select id, event_id, topic, key, payload, headers, event_type, created_at, traceparent, tracestate
from (
    select due.*, sum(octet_length(due.payload)) over (order by due.id) - octet_length(due.payload) as bytes_before
    from (
-- (the due rows, unchanged: the window below runs over these @limit rows only)
select m.id, m.event_id, m.topic, m.key, m.payload, m.headers::text, m.event_type, m.created_at,
       m.traceparent, m.tracestate
from outbox.messages m
where m.partition = @partition
  and m.id > @after
  and exists (select 1 from outbox.partitions p
              where p.partition = @partition and p.epoch = @epoch and not p.paused)
  and not exists (select 1 from outbox.messages b
                  where b.partition = m.partition and b.key = m.key and b.id <= m.id
                    and (b.deliver_at is not null or b.parked_at is not null)
                    and (b.parked_at is not null or b.deliver_at > now()))
order by m.id
limit @limit
    ) due
) budgeted
where bytes_before < @max_bytes
order by id;
