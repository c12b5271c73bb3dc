-- Takes a new ownership epoch for a partition. Waits for a previous owner's in-flight completion (it holds
-- the row FOR SHARE), after which that owner's writes are refused. Durable even on a relay connection
-- that commits asynchronously: a forgotten epoch would let a zombie write again.
set local synchronous_commit = on;
update outbox.partitions
set epoch = epoch + 1, owner = @owner, activated_at = now()
where partition = @partition
returning epoch;
