-- Outbox schema, version 12: Orleans cluster membership and reminders, in the outbox's own database.
--
-- Read by Microsoft.Orleans.Clustering.AdoNet and Microsoft.Orleans.Reminders.AdoNet (10.3.x, invariant "Npgsql").
-- Those packages ship no SQL: they read every statement they run from the table OrleansQuery, once, when a silo
-- or client starts. This file is that contract written for PostgreSQL (checked against the providers' sources,
-- src/AdoNet/Shared/Storage/{RelationalOrleansQueries,DbStoredQueries}.cs in dotnet/orleans).
--
-- Where it lives: everything is in the schema `orleans`, so it cannot meet an application's own Orleans tables in
-- `public`. The providers read their queries with the unqualified `SELECT QueryKey, QueryText FROM OrleansQuery`,
-- so the connection they use must have `Search Path=orleans` (OrleansStorage.CreateDataSource does that); the query
-- texts themselves name every table with its schema.
--
-- Invariants:
--  * Every table version row is the optimistic-concurrency fence of one cluster (ClusterId = deployment_id): a
--    membership insert or update succeeds only if the version still equals the one the silo read (@Version is the
--    ETag it read; Orleans' TableVersion.Next() keeps the old ETag), and bumps it in the same statement. Each such
--    write is ONE statement, so it is atomic without an explicit transaction.
--  * Membership and reminder writes commit synchronously whatever the session's synchronous_commit says (the
--    relay's own pool commits asynchronously): the triggers at the end set it for the writing transaction. A
--    death declaration or a version bump that vanished in a database crash would let two silos disagree about
--    who is alive; a vanished reminder would leave a schedule without its durable wake-up.
--  * Reminders are partitioned by service (ServiceId); membership by cluster (ClusterId).
--
-- Traps of the contract (each one cost a failed start when it was wrong):
--  * Every key the provider knows must be present (9 membership keys, 7 reminder keys), or it throws
--    "Not all required queries found" at start-up. Extra keys are ignored.
--  * Results are read by column NAME (Npgsql matches case-insensitively; the aliases below are exact anyway) and
--    by TYPE: Port, Generation, Status, ProxyPort are read with GetInt32 (int4, never null: ProxyPort is 0 for a
--    silo without a gateway); Period with GetInt64 (bigint); Version with Convert.ToInt32; times as DateTime
--    (timestamptz, read back as UTC); Address, SiloName, HostName, SuspectTimes, GrainId, ReminderName as strings.
--  * Boolean answers (InsertMembershipVersionKey, InsertMembershipKey, UpdateMembershipKey, DeleteReminderRowKey)
--    must be exactly one row of one column: > 0 means done, 0 means "lost the race, re-read and retry".
--  * The membership reads must return at least one row even when no silo is registered: the table version row,
--    left-joined to the members. A null StartTime means "no member in this row".
--  * Grain hashes are uint32 values sent as signed int4. ReadRangeRows1Key serves begin < end (compared signed):
--    begin < hash <= end; ReadRangeRows2Key the wrapped range: hash > begin or hash <= end.
--  * SiloStatus numbers: 0 None, 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead.
--  * SuspectTimes is Orleans' own text ("silo,time|silo,time"), stored and returned verbatim.
--
-- Changing a query later: a new numbered migration that updates the row (`update orleans.OrleansQuery set ...`);
-- running silos keep the text they read at start-up until they restart.

create schema if not exists orleans;

-- The statements the providers run, by key. The provider's unquoted names fold to lower case in PostgreSQL.
create table orleans.OrleansQuery (
    QueryKey  text primary key,
    QueryText text not null
);

-- One row per cluster: the table version every membership write is fenced on.
create table orleans.membership_version (
    deployment_id text primary key,
    version       int not null default 0,
    updated_at    timestamptz not null default now()
);

-- One row per silo incarnation (address, port, generation). Dead rows stay until Orleans' defunct-silo cleanup
-- removes them, so an operator can see who died and when.
create table orleans.membership (
    deployment_id  text not null references orleans.membership_version (deployment_id),
    address        text not null,
    port           int not null,
    generation     int not null,
    silo_name      text not null,
    host_name      text not null,
    status         int not null check (status between 0 and 6),
    proxy_port     int not null default 0,
    suspect_times  text,
    start_time     timestamptz not null,
    iam_alive_time timestamptz not null,
    primary key (deployment_id, address, port, generation)
);

-- One row per (grain, reminder name). Silos read the reminders of their ring range by grain hash.
create table orleans.reminders (
    service_id    text not null,
    grain_id      text not null,
    reminder_name text not null,
    start_time    timestamptz not null,
    period_ms     bigint not null check (period_ms >= 0),
    grain_hash    int not null,
    version       int not null default 0,
    primary key (service_id, grain_id, reminder_name)
);

create index reminders_by_hash on orleans.reminders (service_id, grain_hash);

------------------------------------------------------------------------------------------------------------------
-- Membership (Microsoft.Orleans.Clustering.AdoNet): 9 keys
------------------------------------------------------------------------------------------------------------------
insert into orleans.OrleansQuery (QueryKey, QueryText) values

-- Creates the cluster's version row if it is missing; 1 if this call created it.
('InsertMembershipVersionKey', $q$
with inserted as (
    insert into orleans.membership_version (deployment_id) values (@DeploymentId)
    on conflict (deployment_id) do nothing
    returning 1)
select count(*)::int as "Inserted" from inserted;
$q$),

-- Lock the version row only if it still has the version the silo read, insert the member only under that lock,
-- bump the version only if the member was inserted. 1 = joined, 0 = the table moved on (Orleans re-reads).
('InsertMembershipKey', $q$
with fence as (
    select deployment_id from orleans.membership_version
    where deployment_id = @DeploymentId and version = @Version
    for update),
inserted as (
    insert into orleans.membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, start_time, iam_alive_time)
    select fence.deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           coalesce(@ProxyPort, 0), @StartTime, @IAmAliveTime
    from fence
    on conflict do nothing
    returning deployment_id),
bumped as (
    update orleans.membership_version v set version = v.version + 1, updated_at = now()
    where v.deployment_id in (select deployment_id from inserted)
    returning 1)
select count(*)::int as "Inserted" from bumped;
$q$),

-- Same fence as the insert: status changes, suspicions and death declarations are versioned writes.
('UpdateMembershipKey', $q$
with fence as (
    select deployment_id from orleans.membership_version
    where deployment_id = @DeploymentId and version = @Version
    for update),
updated as (
    update orleans.membership m
    set status = @Status, suspect_times = @SuspectTimes, iam_alive_time = @IAmAliveTime
    from fence
    where m.deployment_id = fence.deployment_id
      and m.address = @Address and m.port = @Port and m.generation = @Generation
    returning m.deployment_id),
bumped as (
    update orleans.membership_version v set version = v.version + 1, updated_at = now()
    where v.deployment_id in (select deployment_id from updated)
    returning 1)
select count(*)::int as "Updated" from bumped;
$q$),

-- The heartbeat: not versioned, and Orleans does not read its result.
('UpdateIAmAlivetimeKey', $q$
update orleans.membership set iam_alive_time = @IAmAliveTime
where deployment_id = @DeploymentId and address = @Address and port = @Port and generation = @Generation;
$q$),

('MembershipReadRowKey', $q$
select v.deployment_id as "DeploymentId", m.address as "Address", m.port as "Port", m.generation as "Generation",
       m.silo_name as "SiloName", m.host_name as "HostName", m.status as "Status", m.proxy_port as "ProxyPort",
       m.suspect_times as "SuspectTimes", m.start_time as "StartTime", m.iam_alive_time as "IAmAliveTime",
       v.version as "Version"
from orleans.membership_version v
left join orleans.membership m
       on m.deployment_id = v.deployment_id
      and m.address = @Address and m.port = @Port and m.generation = @Generation
where v.deployment_id = @DeploymentId;
$q$),

('MembershipReadAllKey', $q$
select v.deployment_id as "DeploymentId", m.address as "Address", m.port as "Port", m.generation as "Generation",
       m.silo_name as "SiloName", m.host_name as "HostName", m.status as "Status", m.proxy_port as "ProxyPort",
       m.suspect_times as "SuspectTimes", m.start_time as "StartTime", m.iam_alive_time as "IAmAliveTime",
       v.version as "Version"
from orleans.membership_version v
left join orleans.membership m on m.deployment_id = v.deployment_id
where v.deployment_id = @DeploymentId;
$q$),

-- Used by tests and tooling to forget a whole cluster; two statements, one implicit transaction.
('DeleteMembershipTableEntriesKey', $q$
delete from orleans.membership where deployment_id = @DeploymentId;
delete from orleans.membership_version where deployment_id = @DeploymentId;
$q$),

-- For clients: the gateways of active silos (@Status is SiloStatus.Active).
('GatewaysQueryKey', $q$
select address as "Address", proxy_port as "ProxyPort", generation as "Generation"
from orleans.membership
where deployment_id = @DeploymentId and status = @Status and proxy_port > 0;
$q$),

-- Orleans' defunct-silo cleanup: rows of silos that are not active and have not been heard of since @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $q$
delete from orleans.membership
where deployment_id = @DeploymentId and iam_alive_time < @IAmAliveTime and status <> 3;
$q$);

------------------------------------------------------------------------------------------------------------------
-- Reminders (Microsoft.Orleans.Reminders.AdoNet): 7 keys
------------------------------------------------------------------------------------------------------------------
insert into orleans.OrleansQuery (QueryKey, QueryText) values

-- Returns the row's new version (its ETag): 0 when created, +1 on every re-registration.
('UpsertReminderRowKey', $q$
insert into orleans.reminders as r (service_id, grain_id, reminder_name, start_time, period_ms, grain_hash, version)
values (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
on conflict (service_id, grain_id, reminder_name) do update
   set start_time = excluded.start_time, period_ms = excluded.period_ms, grain_hash = excluded.grain_hash,
       version = r.version + 1
returning r.version as "Version";
$q$),

('ReadReminderRowsKey', $q$
select grain_id as "GrainId", reminder_name as "ReminderName", start_time as "StartTime",
       period_ms as "Period", version as "Version"
from orleans.reminders
where service_id = @ServiceId and grain_id = @GrainId;
$q$),

('ReadReminderRowKey', $q$
select grain_id as "GrainId", reminder_name as "ReminderName", start_time as "StartTime",
       period_ms as "Period", version as "Version"
from orleans.reminders
where service_id = @ServiceId and grain_id = @GrainId and reminder_name = @ReminderName;
$q$),

-- A ring range that does not wrap (begin < end as signed ints).
('ReadRangeRows1Key', $q$
select grain_id as "GrainId", reminder_name as "ReminderName", start_time as "StartTime",
       period_ms as "Period", version as "Version"
from orleans.reminders
where service_id = @ServiceId and grain_hash > @BeginHash and grain_hash <= @EndHash;
$q$),

-- A ring range that wraps past the top of the hash space.
('ReadRangeRows2Key', $q$
select grain_id as "GrainId", reminder_name as "ReminderName", start_time as "StartTime",
       period_ms as "Period", version as "Version"
from orleans.reminders
where service_id = @ServiceId and (grain_hash > @BeginHash or grain_hash <= @EndHash);
$q$),

-- Deletes only the version the caller read; 1 = deleted, 0 = it changed meanwhile.
('DeleteReminderRowKey', $q$
with deleted as (
    delete from orleans.reminders
    where service_id = @ServiceId and grain_id = @GrainId and reminder_name = @ReminderName and version = @Version
    returning 1)
select count(*)::int as "Deleted" from deleted;
$q$),

('DeleteReminderRowsKey', $q$
delete from orleans.reminders where service_id = @ServiceId;
$q$);

------------------------------------------------------------------------------------------------------------------
-- Synchronous commit for every write to these tables
------------------------------------------------------------------------------------------------------------------
-- set_config(..., true) lasts until the end of the writing transaction, and PostgreSQL reads synchronous_commit
-- when that transaction commits: so the commit waits for the WAL flush even on a session that turned it off.
create function orleans.commit_synchronously() returns trigger language plpgsql as $f$
begin
    perform set_config('synchronous_commit', 'on', true);
    return null;
end
$f$;

create trigger membership_version_commits_synchronously before insert or update or delete
    on orleans.membership_version for each statement execute function orleans.commit_synchronously();
create trigger membership_commits_synchronously before insert or update or delete
    on orleans.membership for each statement execute function orleans.commit_synchronously();
create trigger reminders_commit_synchronously before insert or update or delete
    on orleans.reminders for each statement execute function orleans.commit_synchronously();

-- Recorded here as well as by the migrator, so applying this file by hand with psql counts as applied.
insert into outbox.schema_migrations (version, name) values (12, '012_orleans.sql') on conflict (version) do nothing;
