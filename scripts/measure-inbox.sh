#!/usr/bin/env bash
# Measures the inbox's table and its purge (docs/inbox.md quotes the figures): N recorded event ids (10,000 keys,
# half of them past the retention), table and index sizes, the purge of the expired half with the consumer's own
# statement (src/Outbox.Inbox/Sql/purge.sql, batches of 1,000 rows) and its rate, sizes after a plain VACUUM, and
# again after N/2 new ids reuse the freed space. Needs the Release build.
#   scripts/measure-inbox.sh [N=1000000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-1000000}"
SERVER="${OUTBOX_DB:-Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox}"
SILO="$ROOT/src/Outbox.Silo/bin/Release/net10.0/Outbox.Silo.dll"
DB="outbox_measure_inbox"
export PGHOST=127.0.0.1 PGUSER=outbox PGPASSWORD=outbox

psql -d postgres -qc "drop database if exists $DB with (force)" -c "create database $DB"
trap 'psql -d postgres -qc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true' EXIT
dotnet "$SILO" inbox migrate --db "${SERVER/Database=outbox/Database=$DB}" >/dev/null

sizes() { # label
  psql -d "$DB" -At -F ' | ' -c "
    select '$1', (select count(*) from inbox.received), pg_size_pretty(pg_relation_size('inbox.received')),
           pg_size_pretty(pg_relation_size('inbox.received_pkey')), pg_size_pretty(pg_relation_size('inbox.received_key_position')),
           pg_size_pretty(pg_relation_size('inbox.received_expiry')), pg_size_pretty(pg_total_relation_size('inbox.received'))"
}

fill() { # rows, oldest age
  psql -d "$DB" -qc "
    insert into inbox.received (consumer_group, event_id, topic, key, sequence, outbox_partition, received_at)
    select 'payments', gen_random_uuid(), 'orders', 'order-' || (i % 10000), i, i % 64,
           now() - $2 * (1 - i::float8 / $1)
    from generate_series(1, $1) i"
}

echo "label | rows | heap | pkey | key_position | expiry | total"
start=$(date +%s.%N); fill "$N" "interval '2 days'"; end=$(date +%s.%N)
echo "inserted $N ids in $(echo "$end - $start" | bc) s (one statement)"
sizes "filled (half older than 1 day)"

# The consumer's purge statement, its parameters given as psql variables.
PURGE="$(sed -e "s/@group/:'grp'/g" -e "s/@retention/:'retention'::interval/g" -e "s/@batch/:batch/g" "$ROOT/src/Outbox.Inbox/Sql/purge.sql")"
batches=$((N / 2 / 1000 + 2))
for _ in $(seq 1 "$batches"); do printf '%s\n' "$PURGE"; done >"/tmp/$DB.purge.sql"
start=$(date +%s.%N)
psql -d "$DB" -q -v grp=payments -v retention='1 day' -v batch=1000 -f "/tmp/$DB.purge.sql" >/dev/null
end=$(date +%s.%N)
rm -f "/tmp/$DB.purge.sql"
left=$(psql -d "$DB" -qAt -c "select count(*) from inbox.received where received_at < now() - interval '1 day'")
echo "purged the expired half ($((N / 2)) ids) in $batches statements of at most 1000 rows in $(echo "$end - $start" | bc) s; expired left: $left"
sizes "after purge"
psql -d "$DB" -qc "vacuum inbox.received"
sizes "after vacuum"
fill "$((N / 2))" "interval '12 hours'"
sizes "after $((N / 2)) new ids"
psql -d "$DB" -qc "vacuum inbox.received"
sizes "after vacuum"
