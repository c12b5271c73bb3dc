-- Takes a new ownership epoch for a partition. Waits for a previous owner's in-flight completion (it holds
-- the row FOR SHARE), after which that owner's writes are refused. Run in a transaction that commits
-- synchronously even on the relay's asynchronously committing connections: a forgotten epoch would let a
-- zombie write again.
update outbox.partitions
set epoch = epoch + 1, owner = @owner, activated_at = now()
where partition = @partition
returning epoch;
