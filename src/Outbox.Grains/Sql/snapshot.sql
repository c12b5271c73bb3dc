-- Whether anything may have become visible since the change feed's last statement: this snapshot's xmax and running
-- transactions, compared with the last feed statement's (Relay/RelayReader.cs). The idle silo's only statement.
select pg_snapshot_xmax(s)::text::bigint, array(select x::text::bigint from pg_snapshot_xip(s) x)
from (select pg_current_snapshot() as s) q;
