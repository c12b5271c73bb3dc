-- The churn scenario's second held transaction: it takes a transaction id and only reads outbox.messages (a report in a
-- transaction that also wrote elsewhere), then stays open for the whole run. Vacuum can remove nothing it might see.
select pg_current_xact_id()::text, (select count(*) from outbox.messages where topic = @topic);
