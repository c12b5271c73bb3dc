-- Milliseconds the benchmark database's sessions have spent executing statements (all sessions: writers and relay).
-- Backends report it about once a second, so it is read over windows of several seconds.
select active_time from pg_stat_database where datname = current_database();
