-- The silos of the Orleans cluster(s) in this database, read from Orleans' own membership table (migration 012),
-- each with the outbox partitions it owns (outbox.partitions.owner is the owning silo's name, SiloOptions.SiloName).
--
-- Invariants:
--  * Read-only, two small tables: one row per silo incarnation (address, port, generation) and one per partition.
--  * A restarted silo keeps its name but is a new incarnation (a new generation), and its dead predecessor stays
--    listed until Orleans' defunct-silo cleanup removes it: partitions are shown on the newest incarnation of a
--    name only, so no partition is counted twice.
--  * A dead silo keeps the partitions whose owner column still names it, until a survivor activates them (a new
--    epoch and owner): that is what the operator should see while failover runs.
--  * Orleans' SiloStatus numbers become the words an operator reads (0-1 never last long enough to matter).
with owned as (
    select owner, array_agg(partition order by partition) as partitions
    from outbox.partitions
    where owner is not null
    group by owner
), members as (
    select m.*, row_number() over (partition by m.deployment_id, m.silo_name
                                   order by m.start_time desc, m.generation desc) as newest
    from orleans.membership m
)
select m.deployment_id as cluster_id,
       m.silo_name,
       m.address,
       m.port,
       m.proxy_port,
       m.host_name,
       case m.status when 0 then 'none' when 1 then 'created' when 2 then 'joining' when 3 then 'alive'
                     when 4 then 'shutting down' when 5 then 'stopping' when 6 then 'dead' end as status,
       m.start_time,
       m.iam_alive_time,
       case when m.newest = 1 then coalesce(o.partitions, '{}') else '{}' end as partitions
from members m
left join owned o on o.owner = m.silo_name
order by m.deployment_id, m.status = 6, m.silo_name, m.start_time desc;
