-- Wakes the owner of every partition (the same NOTIFY an application's commit sends).
select count(outbox.request_drain(partition)) from outbox.partitions;
