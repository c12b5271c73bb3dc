-- Outbox schema, version 3: the operator's tools and audit retention.

-- A discarded message keeps how many times Kafka refused it, so the audit record says how hard the relay
-- tried before someone gave up on it.
alter table outbox.discarded add column attempts int not null default 0;

-- The audit table is appended to by every published batch and purged by the retention service: vacuum it as
-- eagerly as the outbox itself, so purged space is reused by new rows instead of growing the table.
alter table outbox.published set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05);

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (3, '003_operations.sql') on conflict (version) do nothing;
