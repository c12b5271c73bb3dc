-- The classic outbox of the ADRs: one table, a status column flipped from NEW to SENT, an index to find
-- the NEW rows in id order. Kept apart from the relay's schema.
drop schema if exists naive cascade;
create schema naive;
create table naive.outbox (
    id         bigserial primary key,
    topic      text not null,
    key        text not null,
    payload    bytea not null,
    status     text not null default 'NEW',
    created_at timestamptz not null default now()
);
create index outbox_status_id on naive.outbox (status, id);
