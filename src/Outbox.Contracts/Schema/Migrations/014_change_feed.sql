-- Outbox schema, version 14: every row records the transaction that made it publishable, so each silo finds newly
-- publishable rows with one index range scan per cycle (its change feed), whatever the number of partitions, silos
-- or long-running transactions; and the writer pays less for its INSERT.
-- Invariants:
-- * tx is the top-level transaction id of whoever last made the row publishable: the writer that inserted it
--   (savepoints included: pg_current_xact_id() is the top-level id even inside a subtransaction), or the relay or
--   operator statement that released it (a scheduled message falling due, a parked message retried). Nothing else
--   writes it: the insert trigger overwrites whatever a writer passes (a restored dump carries ids of another
--   database), and the update trigger sets it whenever a row becomes publishable by hand.
-- * A row is publishable when deliver_at and parked_at are null and no earlier row of its key (in its partition) is
--   scheduled, held or parked. The relay publishes such rows in the order their transactions became visible, and
--   within one transaction in id order (Grains/Sql/cycle.sql).
-- * A row that became publishable while an earlier row of its key was not waits with it, held: deliver_at 'infinity'
--   until that row is released (it falls due, or an operator retries or discards it), and then they are released
--   together (Grains/Sql/maintain.sql). Writers cannot insert 'infinity' (the insert trigger refuses it), so the value
--   means "held behind an earlier message of its key" and nothing else.
-- * Rows whose partition lies outside 0..partition_count-1 are refused: no relay would ever own them.
-- Applying this migration rewrites no row. Stop relays of earlier versions before applying it: it drops the
-- functions their reads used.

alter table outbox.messages add column tx xid8;
alter table outbox.messages alter column tx set default pg_current_xact_id();
comment on column outbox.messages.tx is
    'Top-level transaction that made the row publishable (insert, or release); the relay''s change feed scans it.';

-- The change feed: each cycle scans the ids of the transactions that finished since the previous one.
create index messages_tx on outbox.messages (tx);

-- An id alone may name two messages over time (a sequence set back, a failover to a standby that missed
-- transactions): the audit and discard records are keyed by id and event id.
alter table outbox.published drop constraint published_pkey, add primary key (partition, id, event_id);
alter table outbox.discarded drop constraint discarded_pkey, add primary key (partition, id, event_id);

-- The read position of version 13 is gone, and with it the need to take the transaction id before the row id.
drop trigger messages_transaction_id_first on outbox.messages;
drop function outbox.take_transaction_id();
drop function outbox.running_transactions(pg_snapshot);

-- The deployment's partition count, for the insert check and the partition of a key. It is fixed once the outbox is
-- set up, so the migrator redefines this function as the constant itself (immutable, inlined: no lookup per row) as soon
-- as outbox.settings holds it; until then, and for a DBA who applies this file by hand before the count is set, it
-- reads the table. Strict (meaningless without arguments), so that outbox.partition_of, which is strict, can still be
-- inlined into the statement that calls it: PostgreSQL does not inline a strict SQL function whose body calls a
-- non-strict one, and an SQL function that is not inlined is planned again on every INSERT that calls it (measured:
-- 150 µs per row instead of 45).
create function outbox.partition_count() returns int
language sql stable strict parallel safe as $$ select partition_count from outbox.settings $$;

do $$
declare
    n int := (select partition_count from outbox.settings);
begin
    if n is not null then
        execute format('create or replace function outbox.partition_count() returns int language sql immutable strict parallel safe as %L',
                       'select ' || n);
    end if;
end $$;

-- The insert check, rewritten for speed, and where the opt-in NOTIFY of 013 is sent now (`alter database ... set
-- outbox.notify_on_enqueue = on`, or per role or session), so every way of writing a row honours it: the common message (short names, no oversized parts) is accepted by one
-- boolean expression, which PL/pgSQL compiles once per session. Anything that expression does not accept goes to
-- outbox.validate_message (011, 013), which names what is wrong. Measured per single-row INSERT on this project's
-- machine (backend CPU): the 013 trigger added 65 us to a 30 us INSERT; this one about 15 us.
create or replace function outbox.validate_new_message() returns trigger
language plpgsql as $$
begin
    new.tx := pg_current_xact_id();
    if new.partition >= 0 and new.partition < outbox.partition_count()
       and new.topic ~ '^[a-zA-Z0-9._-]+$' and length(new.topic) <= 249 and new.topic <> '.' and new.topic <> '..'
       and octet_length(new.key) between 1 and 1024
       and new.event_id <> '00000000-0000-0000-0000-000000000000'
       and (new.event_type is null or octet_length(new.event_type) between 1 and 255)
       and (new.deliver_at is null
            or (new.deliver_at >= timestamptz '2000-01-01 00:00:00+00' and new.deliver_at <= now() + interval '3650 days'))
       and new.parked_at is null
       and (new.traceparent is null
            or (new.traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' and left(new.traceparent, 2) <> 'ff'
                and substr(new.traceparent, 4, 32) <> '00000000000000000000000000000000'
                and substr(new.traceparent, 37, 16) <> '0000000000000000'))
       and (new.tracestate is null or length(new.tracestate) <= 512)
       -- Headers of at most 255 bytes in all cannot break a size limit; their names and value types are checked here.
       and (new.headers is null
            or (jsonb_typeof(new.headers) = 'object' and pg_column_size(new.headers) <= 255
                and not new.headers @? '$.keyvalue() ? (@.value.type() != "string" || @.key starts with "outbox-" || @.key == "traceparent" || @.key == "tracestate" || @.key == "")'))
       -- The smallest Kafka message size outbox.settings allows is 1000 bytes: below it, no lookup is needed.
       and octet_length(new.key) + octet_length(new.payload) + coalesce(pg_column_size(new.headers), 0)
           + coalesce(octet_length(new.event_type), 0) + coalesce(octet_length(new.traceparent), 0)
           + coalesce(octet_length(new.tracestate), 0) + 512 <= 1000
    then
        if current_setting('outbox.notify_on_enqueue', true) = 'on' then perform pg_notify('outbox_drain', new.partition::text); end if;
        return new;
    end if;
    if new.partition is null or new.partition < 0 or new.partition >= outbox.partition_count() then
        raise exception 'outbox message: partition % does not exist (this outbox has partitions 0 to %); compute it with outbox.partition_of(key)',
            new.partition, outbox.partition_count() - 1 using errcode = '22023';
    end if;
    if new.parked_at is not null then
        raise exception 'outbox message: a new message cannot be parked' using errcode = '22023';
    end if;
    perform outbox.validate_message(new.topic, new.key, new.payload, new.headers, new.deliver_at, new.event_type,
                                    new.event_id, new.traceparent, new.tracestate);
    if current_setting('outbox.notify_on_enqueue', true) = 'on' then perform pg_notify('outbox_drain', new.partition::text); end if;
    return new;
end $$;

-- Making a row publishable by hand (deliver_at or parked_at set back to null) puts it back on the change feed, so it
-- is published within a cycle, in its key's order, instead of waiting for a relay to read its partition from the
-- start. The supported way is outbox.retry_parked through the operator tools; this makes the other one safe.
create function outbox.track_release() returns trigger
language plpgsql as $$
begin
    if (old.deliver_at is not null and new.deliver_at is null) or (old.parked_at is not null and new.parked_at is null) then
        new.tx := pg_current_xact_id();
    end if;
    return new;
end $$;

create trigger messages_track_release before update of deliver_at, parked_at on outbox.messages
    for each row execute function outbox.track_release();

-- The partition's murmur2 from the key, without reading outbox.settings for every call.
create or replace function outbox.partition_of(key text) returns int
language sql stable strict parallel safe as $$
    select outbox.murmur2(convert_to(key, 'UTF8')) % outbox.partition_count()
$$;

-- Fewer expressions per 4-byte block than version 1 (same results; the test suite holds it against the C# hash).
create or replace function outbox.murmur2(data bytea) returns int
language plpgsql immutable strict parallel safe as $$
declare
    len int := length(data);
    h bigint := (-1756908916 # len) & 4294967295; -- seed 0x9747b28c xor length
    k bigint;
    i int := 0;
    tail int := len & 3;
begin
    while i + 4 <= len loop
        k := ((get_byte(data, i) | (get_byte(data, i + 1) << 8) | (get_byte(data, i + 2) << 16)
               | (get_byte(data, i + 3)::bigint << 24)) * 1540483477) & 4294967295;
        h := ((h * 1540483477) & 4294967295) # (((k # (k >> 24)) * 1540483477) & 4294967295);
        i := i + 4;
    end loop;
    if tail = 3 then
        h := h # (get_byte(data, i + 2)::bigint << 16) # (get_byte(data, i + 1)::bigint << 8) # get_byte(data, i);
    elsif tail = 2 then
        h := h # (get_byte(data, i + 1)::bigint << 8) # get_byte(data, i);
    elsif tail = 1 then
        h := h # get_byte(data, i);
    end if;
    if tail > 0 then h := (h * 1540483477) & 4294967295; end if;
    h := h # (h >> 13);
    h := (h * 1540483477) & 4294967295;
    return ((h # (h >> 15)) & 2147483647)::int;
end $$;

-- Enqueue from SQL: the insert, nothing else (the trigger validates, records the transaction, notifies if asked).
create or replace function outbox.enqueue(
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
    new_id bigint;
begin
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at,
                                 traceparent, tracestate)
    values (outbox.partition_of(key), coalesce(event_id, gen_random_uuid()), topic, key, payload, headers, event_type,
            deliver_at, traceparent, tracestate)
    returning id into new_id;
    return new_id;
end $$;

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (14, '014_change_feed.sql') on conflict (version) do nothing;
