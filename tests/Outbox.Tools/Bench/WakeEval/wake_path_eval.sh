#!/usr/bin/env bash
# Measures the wake-path candidates on a PRIVATE PostgreSQL server (initdb into a temporary folder, its own
# port, wal_level=logical), never the shared one: pgbench business transactions (update an order + write its
# event + commit, 8 clients) with
#   plain    a plain INSERT into a table of the outbox's shape,
#   notify   outbox.enqueue as of migration 001 (pg_notify in the writer's transaction),
#   quiet    outbox.enqueue as of migration 013 (no NOTIFY),
#   decoded  quiet, while pg_recvlogical decodes the WAL through a logical slot (what a change feed costs),
#   probed   quiet, while the change probe's statement runs every 5 ms (what the probe costs),
# in alternating runs of SECONDS each, and prints tx/s per run and the probe statement's own latency.
# Usage: wake_path_eval.sh [seconds-per-run (10)] [rounds (2)]
set -euo pipefail
SECONDS_PER_RUN="${1:-10}"
ROUNDS="${2:-2}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../../.." && pwd)"
MIGRATIONS="$ROOT/src/Outbox.Contracts/Schema/Migrations"
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
DIR="$(mktemp -d /tmp/outbox-wake-eval.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
cleanup() { as_pg "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/data" -w -l "$DIR/server.log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=4 -c max_replication_slots=4" start >/dev/null
PSQL=(psql -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
"${PSQL[@]}" -f "$MIGRATIONS/001_outbox.sql"
"${PSQL[@]}" -f "$MIGRATIONS/003_operations.sql"
"${PSQL[@]}" -f "$MIGRATIONS/011_message_validation.sql"
"${PSQL[@]}" -c "insert into outbox.settings (partition_count) values (64); insert into outbox.partitions (partition) select generate_series(0, 63);
  create table orders (id text primary key, version bigint not null default 0);
  insert into orders (id) select 'order-' || g from generate_series(1, 10000) g;
  create table bench_plain_messages (like outbox.messages including all);"

pgb() { # script -> tx/s
  pgbench -n -h 127.0.0.1 -p "$PORT" -U postgres -c 8 -j 2 -T "$SECONDS_PER_RUN" -f "$HERE/$1" postgres 2>/dev/null \
    | awk '/^tps/ {printf "%.0f", $3}'
}
run() { # label script
  local tps; tps="$(pgb "$2")"; echo "wake-eval: $1 tps=$tps"
}
for _ in $(seq "$ROUNDS"); do run plain plain.sql; run notify enqueue.sql; done
"${PSQL[@]}" -f "$MIGRATIONS/013_quiet_enqueue.sql"
for _ in $(seq "$ROUNDS"); do run plain plain.sql; run quiet enqueue.sql; done

"${PSQL[@]}" -c "select pg_create_logical_replication_slot('wake_eval', 'test_decoding')" >/dev/null
pg_recvlogical -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -S wake_eval --start -f /dev/null &
DECODER=$!
for _ in $(seq "$ROUNDS"); do run plain plain.sql; run decoded enqueue.sql; done
kill "$DECODER"; wait "$DECODER" 2>/dev/null || true
"${PSQL[@]}" -c "select pg_drop_replication_slot('wake_eval')" >/dev/null

for _ in $(seq "$ROUNDS"); do
  run plain plain.sql
  pgbench -n -h 127.0.0.1 -p "$PORT" -U postgres -c 1 -R 200 -T "$SECONDS_PER_RUN" -f "$HERE/probe.sql" postgres 2>/dev/null \
    | awk '/latency average/ {print "wake-eval: probe latency_ms=" $4}' > "$DIR/probe.out" &
  PROBE=$!
  run probed enqueue.sql
  wait "$PROBE"; cat "$DIR/probe.out"
done
