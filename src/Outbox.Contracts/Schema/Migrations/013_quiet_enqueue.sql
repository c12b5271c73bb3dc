-- Outbox schema, version 13: enqueueing adds nothing to the writer's commit but the INSERT.
-- A NOTIFY makes PostgreSQL serialise the commits of every notifying transaction (a database-wide lock held
-- through the commit's WAL flush), so outbox.enqueue and the C# batch insert no longer send one: each silo's
-- change probe finds new rows a few milliseconds after their commit, outside the writer's transaction
-- (docs/write-path.md).
-- Invariants:
-- * Every INSERT into outbox.messages (outbox.enqueue, the C# batch insert, a plain INSERT or COPY from any
--   language) takes its transaction id before its first row draws an id from the sequence: a statement trigger
--   runs before the statement reads its first row, and the identity's nextval is evaluated per row after that.
--   The relay treats an id as settled once every transaction that was running when that id had been handed out
--   has finished (Grains/Storage/SettledHorizon.cs); a transaction holding an id but no transaction id yet would
--   be invisible to that check. The sequence must keep handing ids out in time order (its cache size 1).
-- * NOTIFY stays available as an opt-in: `alter database ... set outbox.notify_on_enqueue = on` (or per role or
--   session). Off when unset. outbox.request_drain (an operator's call, not the business path) keeps its NOTIFY.
-- * Every message is checked once, by the messages_validate trigger (011): enqueue no longer repeats the checks.
-- * The topic check means what it meant in 011, without the bounded repetition {1,249}, which PostgreSQL's regex
--   engine made cost about half a millisecond per row here (most of what enqueue cost over a plain INSERT).

create or replace function outbox.validate_message(
    topic text, key text, payload bytea, headers jsonb, deliver_at timestamptz, event_type text,
    event_id uuid, traceparent text, tracestate text)
returns void
language plpgsql stable as $$
declare
    header_count int := 0;
    header_bytes bigint := 0;
    longest_value int := 0;
    bad_header boolean := false;
    record_bytes bigint;
    max_bytes int;
begin
    if topic is null or topic !~ '^[a-zA-Z0-9._-]+$' or length(topic) > 249 or topic in ('.', '..') then
        raise exception 'outbox message: invalid Kafka topic name %', coalesce(quote_literal(topic), 'NULL')
            using errcode = '22023';
    end if;
    if key is null or octet_length(key) = 0 or octet_length(key) > 1024 then
        raise exception 'outbox message: key must be 1 to 1024 bytes' using errcode = '22023';
    end if;
    if payload is null or octet_length(payload) > 1000000 then
        raise exception 'outbox message: payload must be present and at most 1000000 bytes' using errcode = '22023';
    end if;
    if event_id is null or event_id = '00000000-0000-0000-0000-000000000000' then
        raise exception 'outbox message: event_id must not be empty (consumers deduplicate by it)' using errcode = '22023';
    end if;
    if event_type is not null and (octet_length(event_type) = 0 or octet_length(event_type) > 255) then
        raise exception 'outbox message: event_type must be 1 to 255 bytes when set' using errcode = '22023';
    end if;
    if deliver_at is not null
       and (not isfinite(deliver_at) or deliver_at < timestamptz '2000-01-01 00:00:00+00'
            or deliver_at > now() + interval '3650 days') then
        raise exception 'outbox message: deliver_at % is not a schedule: it must lie between 2000-01-01 and 3650 days from now',
            deliver_at using errcode = '22023';
    end if;
    if traceparent is not null
       and (traceparent !~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' or left(traceparent, 2) = 'ff'
            or substr(traceparent, 4, 32) = repeat('0', 32) or substr(traceparent, 37, 16) = repeat('0', 16)) then
        raise exception 'outbox message: traceparent % is not a W3C traceparent', quote_literal(traceparent)
            using errcode = '22023';
    end if;
    if tracestate is not null and length(tracestate) > 512 then
        raise exception 'outbox message: tracestate must be at most 512 characters' using errcode = '22023';
    end if;
    if headers is not null then
        if jsonb_typeof(headers) <> 'object' then
            raise exception 'outbox message: headers must be a JSON object of strings' using errcode = '22023';
        end if;
        -- One pass over the headers (names, types, count and sizes together).
        select count(*), coalesce(sum(octet_length(h.key) + octet_length(h.value #>> '{}')), 0),
               coalesce(max(octet_length(h.value #>> '{}')), 0),
               coalesce(bool_or(jsonb_typeof(h.value) <> 'string' or h.key like 'outbox-%'
                                or h.key in ('', 'traceparent', 'tracestate') or octet_length(h.key) > 255), false)
        into header_count, header_bytes, longest_value, bad_header
        from jsonb_each(headers) h;
        if bad_header then
            raise exception 'outbox message: header values must be strings and names 1 to 255 bytes, not traceparent, tracestate or starting with outbox-'
                using errcode = '22023';
        end if;
        if header_count > 64 then
            raise exception 'outbox message: at most 64 headers are allowed' using errcode = '22023';
        end if;
        if longest_value > 8192 then
            raise exception 'outbox message: a header value is longer than 8192 bytes' using errcode = '22023';
        end if;
    end if;
    -- The whole record, as the relay will produce it, against the deployment's Kafka message size. The size is
    -- at least 1,000 bytes (outbox.settings' check), so a message that fits in that is not looked up.
    record_bytes := octet_length(key) + octet_length(payload) + header_bytes + coalesce(octet_length(event_type), 0)
                    + coalesce(octet_length(traceparent), 0) + coalesce(octet_length(tracestate), 0) + 512;
    if record_bytes > 1000 then
        max_bytes := coalesce((select s.message_max_bytes from outbox.settings s), 1048576);
        if record_bytes > max_bytes then
            raise exception 'outbox message: the message (% bytes of payload, % of headers) exceeds the Kafka message size of % bytes configured for this outbox (Kafka:MessageMaxBytes)',
                octet_length(payload), header_bytes, max_bytes using errcode = '22023';
        end if;
    end if;
end $$;

-- The transactions running at snapshot s, as 64-bit ids, for the relay's reads and change probe
-- (Grains/Storage/TransactionSnapshot.cs). pg_snapshot_xip lists only those below s's xmax (the latest completed
-- transaction + 1); those that took their id since are running too, though unlisted, so every id from xmax up to
-- the next one to be assigned joins the list. age() reads that next id without assigning one, when this function
-- runs: after the calling statement took s (the function is not inlined, so its age() is not evaluated while the
-- caller is planned). The distance is taken modulo 2^32 (age() is 32-bit); one that is not a small step forward
-- would be a stale read, and adds nothing.
create function outbox.running_transactions(s pg_snapshot) returns bigint[]
language sql stable as $$
    select array(select x::text::bigint from pg_snapshot_xip(s) x
                 union all
                 select generate_series(b.xmax, b.xmax + case when b.ahead < 2147483648 then b.ahead else 0 end - 1))
    from (select pg_snapshot_xmax(s)::text::bigint as xmax,
                 ((age(f.x)::bigint + 3 - pg_snapshot_xmax(s)::text::bigint % 4294967296) % 4294967296 + 4294967296)
                     % 4294967296 as ahead
          from (select '3'::xid as x) f) b
$$;

create function outbox.take_transaction_id() returns trigger
language plpgsql as $$
begin
    perform pg_current_xact_id();
    return null;
end $$;

create trigger messages_transaction_id_first before insert on outbox.messages
    for each statement execute function outbox.take_transaction_id();

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
    p int;
    new_id bigint;
begin
    p := outbox.partition_of(key);
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type, deliver_at,
                                 traceparent, tracestate)
    values (p, coalesce(event_id, gen_random_uuid()), topic, key, payload, headers, event_type, deliver_at,
            traceparent, tracestate)
    returning id into new_id;
    if current_setting('outbox.notify_on_enqueue', true) = 'on' then
        perform pg_notify('outbox_drain', p::text);
    end if;
    return new_id;
end $$;

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (13, '013_quiet_enqueue.sql') on conflict (version) do nothing;
