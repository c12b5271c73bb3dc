-- Outbox schema, version 1. Applied by `outbox.sh migrate` (or the silo at start-up when configured);
-- a DBA may apply it by hand with psql: every statement is plain SQL, idempotence comes from
-- outbox.schema_migrations. The partition count is set once, by the migrator, in outbox.settings.

create schema if not exists outbox;
create table if not exists outbox.schema_migrations (
    version int primary key, name text not null, applied_at timestamptz not null default now());

create table outbox.settings (
    singleton      boolean primary key default true check (singleton),
    partition_count int not null check (partition_count between 1 and 4096)
);

-- One row per event waiting to be published. Rows leave this table only after Kafka acknowledged them
-- (or an operator discarded them), so a crash anywhere can only re-publish, never lose.
-- The primary key (partition, id) is the drain index: each relay reads its partition as an index range.
create table outbox.messages (
    partition    int not null,
    id           bigint generated always as identity,
    event_id     uuid not null,
    topic        text not null,
    key          text not null,
    payload      bytea not null,
    headers      jsonb,
    event_type   text,
    created_at   timestamptz not null default now(),
    deliver_at   timestamptz,
    traceparent  text,
    tracestate   text,
    attempts     int not null default 0,
    parked_at    timestamptz,
    park_reason  text,
    primary key (partition, id)
) with (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.05);

-- Rows that hold their key back: scheduled (deliver_at) or parked (poison). Small, so the drain's
-- "nothing earlier of my key is blocked" check is an index probe into a tiny index.
create index messages_blockers on outbox.messages (partition, key, id)
    where deliver_at is not null or parked_at is not null;

-- The reminder: the earliest future deliver-at of a partition.
create index messages_schedule on outbox.messages (partition, deliver_at)
    where deliver_at is not null;

-- Ownership epochs: a relay takes a new epoch when it activates a partition; its writes are refused
-- once a newer epoch exists (the zombie fence).
create table outbox.partitions (
    partition     int primary key,
    epoch         bigint not null default 0,
    owner         text,
    activated_at  timestamptz,
    paused        boolean not null default false,
    last_published_at timestamptz
) with (fillfactor = 50);

-- Published rows kept for audit (only when retention is configured), removed in bounded batches.
create table outbox.published (
    partition    int not null,
    id           bigint not null,
    event_id     uuid not null,
    topic        text not null,
    key          text not null,
    payload      bytea not null,
    headers      jsonb,
    event_type   text,
    created_at   timestamptz not null,
    traceparent  text,
    tracestate   text,
    published_at timestamptz not null default now(),
    primary key (partition, id)
);
create index published_at on outbox.published (published_at);

-- Messages an operator discarded, with who, when and why.
create table outbox.discarded (
    partition    int not null,
    id           bigint not null,
    event_id     uuid not null,
    topic        text not null,
    key          text not null,
    payload      bytea not null,
    headers      jsonb,
    event_type   text,
    created_at   timestamptz not null,
    park_reason  text,
    discarded_at timestamptz not null default now(),
    discarded_by text not null,
    reason       text not null,
    primary key (partition, id)
);

-- Kafka's murmur2 (the Java client's default partitioner hash) of the key's UTF-8 bytes, so SQL and C#
-- agree on a key's partition. 32-bit arithmetic is emulated in bigint with masks.
create function outbox.murmur2(data bytea) returns int
language plpgsql immutable strict parallel safe as $$
declare
    m constant bigint := 1540483477; -- 0x5bd1e995
    len int := length(data);
    h bigint := (-1756908916 # len) & 4294967295; -- seed 0x9747b28c xor length
    k bigint;
    i int := 0;
    tail int := len % 4;
begin
    while i + 4 <= len loop
        k := get_byte(data, i) | (get_byte(data, i + 1) << 8) | (get_byte(data, i + 2) << 16)
             | (get_byte(data, i + 3)::bigint << 24);
        k := (k * m) & 4294967295;
        k := k # (k >> 24);
        k := (k * m) & 4294967295;
        h := (h * m) & 4294967295;
        h := h # k;
        i := i + 4;
    end loop;
    if tail = 3 then h := h # (get_byte(data, i + 2)::bigint << 16); end if;
    if tail >= 2 then h := h # (get_byte(data, i + 1)::bigint << 8); end if;
    if tail >= 1 then
        h := h # get_byte(data, i);
        h := (h * m) & 4294967295;
    end if;
    h := h # (h >> 13);
    h := (h * m) & 4294967295;
    h := h # (h >> 15);
    return (h & 2147483647)::int;
end $$;

create function outbox.partition_of(key text) returns int
language sql stable strict parallel safe as $$
    select outbox.murmur2(convert_to(key, 'UTF8')) % (select partition_count from outbox.settings)
$$;

-- Enqueue one message from any language, inside the caller's transaction:
--   select outbox.enqueue('orders', 'order-42', '{"total": 10}'::jsonb::text::bytea, ...);
-- Validation mirrors the C# API; the NOTIFY is delivered only if the caller's transaction commits.
create function outbox.enqueue(
    topic text,
    key text,
    payload bytea,
    headers jsonb default null,
    deliver_at timestamptz default null,
    event_type text default null,
    event_id uuid default null,
    traceparent text default null,
    tracestate text default null)
returns bigint
language plpgsql volatile as $$
declare
    p int;
    new_id bigint;
begin
    if topic is null or topic !~ '^[a-zA-Z0-9._-]{1,249}$' or topic in ('.', '..') then
        raise exception 'outbox.enqueue: invalid Kafka topic name %', coalesce(quote_literal(topic), 'NULL')
            using errcode = '22023';
    end if;
    if key is null or length(key) = 0 or octet_length(key) > 1024 then
        raise exception 'outbox.enqueue: key must be 1 to 1024 bytes' using errcode = '22023';
    end if;
    if payload is null or octet_length(payload) > 1000000 then
        raise exception 'outbox.enqueue: payload must be present and at most 1000000 bytes'
            using errcode = '22023';
    end if;
    if headers is not null and jsonb_typeof(headers) <> 'object' then
        raise exception 'outbox.enqueue: headers must be a JSON object of strings' using errcode = '22023';
    end if;
    if headers is not null and exists (select 1 from jsonb_each(headers) h
                                       where jsonb_typeof(h.value) <> 'string' or h.key like 'outbox-%'
                                          or h.key in ('', 'traceparent', 'tracestate')) then
        raise exception 'outbox.enqueue: header values must be strings and names must not be empty, traceparent, tracestate or start with outbox-'
            using errcode = '22023';
    end if;
    p := outbox.partition_of(key);
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at,
                                 traceparent, tracestate)
    values (p, coalesce(event_id, gen_random_uuid()), topic, key, payload, headers, event_type, deliver_at,
            traceparent, tracestate)
    returning id into new_id;
    -- Scheduled messages notify too, so the owner re-arms its reminder.
    perform pg_notify('outbox_drain', p::text);
    return new_id;
end $$;

-- JSON convenience form.
create function outbox.enqueue_json(topic text, key text, payload jsonb, headers jsonb default null,
                                    deliver_at timestamptz default null, event_type text default null)
returns bigint
language sql volatile as $$
    select outbox.enqueue(topic, key, convert_to(payload::text, 'UTF8'), headers, deliver_at, event_type)
$$;

-- Ask the owning relay to drain a partition now (transactional: delivered on commit).
create function outbox.request_drain(p int) returns void
language sql volatile as $$ select pg_notify('outbox_drain', p::text) $$;

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (1, '001_outbox.sql') on conflict (version) do nothing;
