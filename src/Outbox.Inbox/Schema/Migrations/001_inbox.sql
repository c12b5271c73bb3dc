-- Inbox schema, version 1: what a consuming service records so each event's effect is applied exactly once
-- and in order per key. Applied by InboxMigrator (Inbox:MigrateOnStart) or by a DBA with psql; every table is
-- shared by the consumer groups of the database and keyed by the group first.
--
-- Invariants:
--  * A row in inbox.received means the group took responsibility for the event, in the same transaction as its
--    effect: applied, parked (inbox.parked holds it) or dead-lettered. An event whose id is recorded is skipped.
--  * The Kafka offset of an event is committed only after that transaction committed, so a crash re-delivers
--    and the recorded id absorbs the copy.
--  * Per (group, topic, key) the highest recorded outbox sequence is the key's position: an event below it is
--    late (counted, logged, parked or applied by configuration), never silently applied out of order.
--  * A key with a failed event parked is blocked: its later events are parked behind it ('waiting') and
--    applied in their order once the failed one is retried successfully or discarded.

create schema if not exists inbox;
create table if not exists inbox.schema_migrations (
    version int primary key, name text not null, applied_at timestamptz not null default now());

create table inbox.received (
    consumer_group   text        not null,
    event_id         uuid        not null,
    topic            text        not null,
    -- The Kafka message key (the outbox ordering key); null for a keyless message, which has no order to keep.
    key              text,
    -- outbox-sequence: rising per outbox partition, so per key; null when the producer sent none.
    sequence         bigint,
    outbox_partition int,
    received_at      timestamptz not null default now(),
    primary key (consumer_group, event_id)
);

-- The key's position: the highest sequence is one backward index step (order by sequence desc limit 1).
create index received_key_position on inbox.received (consumer_group, topic, key, sequence)
    where key is not null and sequence is not null;

-- The purge walks the oldest rows of a group first, in small batches.
create index received_expiry on inbox.received (consumer_group, received_at);

-- Appended to by every batch and purged by retention: vacuumed eagerly so purged space is reused.
alter table inbox.received set (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05);

create table inbox.parked (
    id               bigint generated always as identity primary key,
    consumer_group   text        not null,
    event_id         uuid        not null,
    topic            text        not null,
    kafka_partition  int         not null,
    kafka_offset     bigint      not null,
    key              text,
    sequence         bigint,
    outbox_partition int,
    event_type       text,
    header_names     text[]      not null,
    header_values    bytea[]     not null,
    payload          bytea,
    -- failed: the handler kept failing (blocks its key); waiting: behind a failed one of its key (blocks it too);
    -- late: below the key's position (blocks nothing: the key already moved past it).
    reason           text        not null check (reason in ('failed', 'waiting', 'late')),
    error            text,
    attempts         int         not null default 0,
    parked_at        timestamptz not null default now(),
    -- Set by an operator (InboxAdmin.RetryParkedAsync); the consumer owning the Kafka partition applies it.
    retry_requested_at timestamptz,
    unique (consumer_group, event_id)
);

create index parked_key on inbox.parked (consumer_group, topic, key, id);
create index parked_partition on inbox.parked (consumer_group, topic, kafka_partition, id);

-- Parked events an operator gave up on, with who, when and why (the audit record).
create table inbox.discarded (
    consumer_group   text        not null,
    event_id         uuid        not null,
    topic            text        not null,
    kafka_partition  int         not null,
    kafka_offset     bigint      not null,
    key              text,
    sequence         bigint,
    event_type       text,
    header_names     text[]      not null,
    header_values    bytea[]     not null,
    payload          bytea,
    reason           text        not null,
    error            text,
    attempts         int         not null,
    parked_at        timestamptz not null,
    discarded_at     timestamptz not null default now(),
    discarded_by     text        not null,
    discard_reason   text        not null
);

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into inbox.schema_migrations (version, name) values (1, '001_inbox.sql') on conflict (version) do nothing;
