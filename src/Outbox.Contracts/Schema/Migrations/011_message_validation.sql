-- Outbox schema, version 11: every row written to outbox.messages is checked against the limits of
-- Outbox.Contracts.OutboxLimits (the C# API checks the same list before it writes; a test holds each limit
-- against both sides), whichever way it is written: outbox.enqueue, the C# batch insert, or a plain INSERT.
-- The check is a BEFORE INSERT trigger calling outbox.validate_message, so the enqueue paths themselves are not
-- redefined here. A message the relay could never publish (too large for the deployment's Kafka, a deliver_at
-- of 'infinity', an all-zero event id consumers would deduplicate against, a malformed traceparent) is refused
-- in the writer's transaction with SQLSTATE 22023, instead of being parked, wedging a partition or being
-- dropped downstream later.

-- The deployment's Kafka message.max.bytes, recorded by each silo at start-up (Kafka:MessageMaxBytes).
alter table outbox.settings add column message_max_bytes int not null default 1048576
    check (message_max_bytes between 1000 and 1000000000);

create function outbox.validate_message(
    topic text, key text, payload bytea, headers jsonb, deliver_at timestamptz, event_type text,
    event_id uuid, traceparent text, tracestate text)
returns void
language plpgsql stable as $$
declare
    header_count int := 0;
    header_bytes bigint := 0;
    longest_value int := 0;
    max_bytes int;
begin
    if topic is null or topic !~ '^[a-zA-Z0-9._-]{1,249}$' or topic in ('.', '..') then
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
        if exists (select 1 from jsonb_each(headers) h
                   where jsonb_typeof(h.value) <> 'string' or h.key like 'outbox-%'
                      or h.key in ('', 'traceparent', 'tracestate') or octet_length(h.key) > 255) then
            raise exception 'outbox message: header values must be strings and names 1 to 255 bytes, not traceparent, tracestate or starting with outbox-'
                using errcode = '22023';
        end if;
        select count(*), coalesce(sum(octet_length(h.key) + octet_length(h.value)), 0), coalesce(max(octet_length(h.value)), 0)
        into header_count, header_bytes, longest_value
        from jsonb_each_text(headers) h;
        if header_count > 64 then
            raise exception 'outbox message: at most 64 headers are allowed' using errcode = '22023';
        end if;
        if longest_value > 8192 then
            raise exception 'outbox message: a header value is longer than 8192 bytes' using errcode = '22023';
        end if;
    end if;
    -- The whole record, as the relay will produce it, against the deployment's Kafka message size.
    max_bytes := coalesce((select s.message_max_bytes from outbox.settings s), 1048576);
    if octet_length(key) + octet_length(payload) + header_bytes + coalesce(octet_length(event_type), 0)
       + coalesce(octet_length(traceparent), 0) + coalesce(octet_length(tracestate), 0) + 512 > max_bytes then
        raise exception 'outbox message: the message (% bytes of payload, % of headers) exceeds the Kafka message size of % bytes configured for this outbox (Kafka:MessageMaxBytes)',
            octet_length(payload), header_bytes, max_bytes using errcode = '22023';
    end if;
end $$;

create function outbox.validate_new_message() returns trigger
language plpgsql as $$
begin
    perform outbox.validate_message(new.topic, new.key, new.payload, new.headers, new.deliver_at, new.event_type,
                                    new.event_id, new.traceparent, new.tracestate);
    return new;
end $$;

create trigger messages_validate before insert on outbox.messages
    for each row execute function outbox.validate_new_message();

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (11, '011_message_validation.sql') on conflict (version) do nothing;
