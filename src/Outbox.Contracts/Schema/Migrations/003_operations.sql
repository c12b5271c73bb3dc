-- Outbox schema, version 3: the operator's tools. A discarded message keeps how many times Kafka refused it,
-- so the audit record says how hard the relay tried before someone gave up on it.
alter table outbox.discarded add column attempts int not null default 0;
