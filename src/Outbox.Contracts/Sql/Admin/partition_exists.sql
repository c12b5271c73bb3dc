select exists (select 1 from outbox.partitions where partition = @partition);
