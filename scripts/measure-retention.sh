#!/usr/bin/env bash
# Measures how big the outbox tables are after publishing N messages, without and with audit retention
# (docs/operations.md quotes the figures). For each mode: a fresh database, N rows preloaded in one statement,
# one silo on the embedded Kafka drains them, then table and index sizes are read right after the drain and
# after a plain VACUUM (what autovacuum does). Needs the Release build.
#   [MODES="none audit"] scripts/measure-retention.sh [N=1000000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-1000000}"
SERVER="${OUTBOX_DB:-Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox}"
SILO="$ROOT/src/Outbox.Silo/bin/Release/net10.0/Outbox.Silo.dll"
TOOLS="$ROOT/tests/Outbox.Tools/bin/Release/net10.0/Outbox.Tools.dll"

# The embedded Kafka runs in a process of its own (the silo only talks to a Kafka it is given).
KAFKA_OUT="$(mktemp)"
dotnet "$TOOLS" dev-kafka >"$KAFKA_OUT" &
KAFKA_PID=$!
trap 'kill "$KAFKA_PID" 2>/dev/null || true; rm -f "$KAFKA_OUT"' EXIT
until grep -q '^bootstrap.servers=' "$KAFKA_OUT"; do sleep 0.2; done
BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$KAFKA_OUT")"
export PGHOST=127.0.0.1 PGUSER=outbox PGPASSWORD=outbox

sizes() { # database label
  psql -d "$1" -At -F ' | ' -c "
    select '$2', c.relname, pg_size_pretty(pg_relation_size(c.oid)), pg_size_pretty(pg_indexes_size(c.oid)),
           pg_size_pretty(pg_total_relation_size(c.oid)), pg_total_relation_size(c.oid),
           (select count(*) from outbox.messages) as messages_rows, (select count(*) from outbox.published) as published_rows
    from pg_class c where c.oid in ('outbox.messages'::regclass, 'outbox.published'::regclass) order by c.relname"
}

preload() { # database
  # 10,000 keys, ~200-byte JSON payloads, a header: a typical order event.
  psql -d "$1" -qc "
    insert into outbox.messages (partition, event_id, topic, key, payload, headers, event_type)
    select k.p, gen_random_uuid(), 'orders', k.key,
           convert_to(json_build_object('order', k.key, 'seq', i, 'status', 'shipped', 'lines', repeat('x', 120))::text, 'UTF8'),
           '{\"content-type\": \"application/json\"}'::jsonb, 'order-shipped'
    from generate_series(1, $N) i
    join (select n, 'order-' || n as key, outbox.partition_of('order-' || n) as p from generate_series(0, 9999) n) k on k.n = i % 10000
    order by i"
}

drain() { # database connection-string label audit-retention [extra silo arguments...]
  local db="$1" cs="$2" label="$3" retention="$4"; shift 4
  local port=$((20000 + RANDOM % 20000)) start end silo
  start=$(date +%s.%N)
  dotnet "$SILO" silo "--Outbox:ConnectionString=$cs" --Outbox:PartitionCount=64 "--Kafka:BootstrapServers=$BOOTSTRAP" \
    "--Urls=http://127.0.0.1:$port" "--Relay:AuditRetention=$retention" --Logging:LogLevel:Default=Warning "$@" &
  silo=$!
  while [ "$(psql -d "$db" -Atc 'select count(*) from outbox.messages')" != "0" ]; do sleep 2; done
  end=$(date +%s.%N)
  if [ "$retention" = "00:00:05" ]; then # let the retention service catch up with the backlog (at most 5 minutes)
    for _ in $(seq 1 150); do
      [ "$(psql -d "$db" -Atc "select count(*) from outbox.published where published_at < now() - interval '10 seconds'")" = "0" ] && break
      sleep 2
    done
  fi
  kill -TERM "$silo"; wait "$silo" || true
  echo "$label: drained $N in $(echo "$end - $start" | bc) s (including silo start)"
  sizes "$db" "$label: drained"
  psql -d "$db" -qc "vacuum outbox.messages" -c "vacuum outbox.published"
  sizes "$db" "$label: after vacuum"
}

for mode in ${MODES:-none audit}; do
  db="outbox_measure_$mode"
  psql -d postgres -qc "drop database if exists $db with (force)" -c "create database $db"
  cs="${SERVER/Database=outbox/Database=$db}"
  dotnet "$SILO" migrate --db "$cs" --partitions 64 >/dev/null
  preload "$db"
  sizes "$db" "$mode round 1: preloaded"
  if [ "$mode" = none ]; then
    drain "$db" "$cs" "none round 1" "00:00:00"
    # A second million into the vacuumed table: the freed space is reused, the table does not grow.
    preload "$db"
    drain "$db" "$cs" "none round 2" "00:00:00"
  else
    drain "$db" "$cs" "audit 7 days round 1" "7.00:00:00"
    # A second million with a 5 s retention: the retention service keeps outbox.published bounded.
    preload "$db"
    drain "$db" "$cs" "audit 5 s round 2" "00:00:05" --Retention:Interval=00:00:01
  fi
  psql -d postgres -qc "drop database $db with (force)"
done
