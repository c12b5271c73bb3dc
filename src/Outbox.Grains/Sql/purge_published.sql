-- Removes up to @batch_size audit rows published longer ago than @retention (the database's clock), oldest
-- first along the published_at index. Bounded so each statement holds its locks briefly and writes a bounded
-- amount of WAL; SKIP LOCKED lets several silos share the work without waiting on each other.
delete from outbox.published p
using (select partition, id
       from outbox.published
       where published_at < now() - @retention
       order by published_at
       limit @batch_size
       for update skip locked) old
where p.partition = old.partition and p.id = old.id;
