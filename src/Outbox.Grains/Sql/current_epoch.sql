-- The partition's current ownership epoch. An activation compares it with the epoch it took: reads of a stale
-- epoch find nothing (read_batch.sql, next_due.sql), so an idle activation of a silo that was declared dead
-- would otherwise never learn that it was fenced off.
select epoch from outbox.partitions where partition = @partition;
