-- The backends of this database opened by the named pools (application_name), for their CPU time in /proc: the relay's
-- pools name themselves outbox-relay and outbox-status, the baseline poller outbox-poller.
select pid from pg_stat_activity where datname = current_database() and application_name = any(@names);
