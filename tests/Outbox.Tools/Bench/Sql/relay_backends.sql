-- The backends of this database opened by the named pools (application_name), for their CPU time in /proc: a silo's
-- sessions name themselves outbox-relay, outbox-status, outbox-relay-listener and outbox-membership, the baseline
-- poller's outbox-poller.
select pid from pg_stat_activity where datname = current_database() and application_name = any(@names);
