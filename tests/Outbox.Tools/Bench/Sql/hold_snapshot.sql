-- The churn scenario's long transaction: a snapshot (repeatable read) and a transaction id held for the whole run, so
-- vacuum can remove no dead row of the outbox and the transaction sits in every snapshot's in-progress list.
select pg_current_xact_id()::text, (select count(*) from outbox.partitions);
