#!/usr/bin/env bash
# The sample service (samples/OrderService) built as a user's project would: against the freshly packed Outbox.*
# packages. Needs the Release build (scripts/setup.sh).
#   scripts/sample.sh            the check scripts/test.sh runs: the packages carry a symbol package whose PDBs link
#                                to the sources (SourceLink); an unsafe Kafka:Producer override stops the service
#                                at start-up naming the key; then in each mode (Npgsql, then EF Core) the service
#                                creates its own database, pays an order over HTTP, reports ready on /health/ready
#                                and the relay's gauges on /metrics, and an independent consumer (kcat) finds the
#                                order's event on Kafka (key, event id, payload). Exit 0 when all of it held.
#   scripts/sample.sh --serve [Npgsql|EntityFrameworkCore]
#                                runs the service in the foreground on http://127.0.0.1:5080 against an embedded Kafka,
#                                for a person to try (./outbox.sh sample does the machine set-up first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/artifacts/sample"
PACKAGES="$ROOT/artifacts/packages"
TOOLS="$ROOT/tests/Outbox.Tools/bin/Release/net10.0/Outbox.Tools.dll"
SERVICE_DIR="$ROOT/samples/OrderService/bin/Release/net10.0"
SERVER="${OUTBOX_DB:-Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox}"
PACKAGE_NAMES=(Outbox.Contracts Outbox.Grains Outbox.EntityFrameworkCore Outbox.Inbox)
# A version of its own per run (time and process id: clones on one machine share NuGet's global packages
# folder), so that cache never serves an older build of the packages under an equal version. This run's copies
# are removed from the cache again at exit, and an earlier run's packages from artifacts/packages before packing.
VERSION_SUFFIX="ci.$(date +%s).$$"
VERSION="$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$ROOT/src/Package.props")-$VERSION_SUFFIX"
NUGET_CACHE="$(dotnet nuget locals global-packages -l | sed -n 's/^global-packages: //p')"
log() { printf 'sample: %s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
database_for() { local cs="${SERVER/Database=outbox/Database=$1}"; printf '%s' "$cs"; }
drop_database() { PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d postgres -qX -c "drop database if exists $1 with (force)" >/dev/null 2>&1 || true; }

serve_mode=""
if [ "${1:-}" = "--serve" ]; then serve_mode="${2:-Npgsql}"; fi

rm -rf "$WORK" && mkdir -p "$WORK" "$PACKAGES"
rm -f "$PACKAGES"/Outbox.*-ci.*.nupkg "$PACKAGES"/Outbox.*-ci.*.snupkg
pids=()
databases=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in "${databases[@]}"; do drop_database "$d"; done
  if [ -n "$NUGET_CACHE" ]; then
    for package in "${PACKAGE_NAMES[@]}"; do rm -rf "$NUGET_CACHE/${package,,}/$VERSION"; done
  fi
  return 0
}
trap cleanup EXIT

log "packing $VERSION"
for package in "${PACKAGE_NAMES[@]}"; do
  dotnet pack "$ROOT/src/$package/$package.csproj" -c Release --no-build --version-suffix "$VERSION_SUFFIX" -o "$PACKAGES" \
    -v q -nologo >>"$WORK/pack.log" || { cat "$WORK/pack.log"; exit 1; }
  [ -f "$PACKAGES/$package.$VERSION.nupkg" ] || { log "$package.$VERSION.nupkg was not produced"; exit 1; }
  # The symbol package's PDB links to the sources (SourceLink), and the nuspec names the repository.
  python3 - "$PACKAGES/$package.$VERSION.nupkg" "$PACKAGES/$package.$VERSION.snupkg" <<'PY' || exit 1
import sys, zipfile
nupkg, snupkg = (zipfile.ZipFile(p) for p in sys.argv[1:])
nuspec = next(nupkg.read(n) for n in nupkg.namelist() if n.endswith(".nuspec")).decode()
pdbs = [snupkg.read(n) for n in snupkg.namelist() if n.endswith(".pdb")]
assert '<repository type="git" url="' in nuspec, f"{sys.argv[1]}: no repository URL in the nuspec"
assert pdbs and all(b'{"documents":{' in pdb for pdb in pdbs), f"{sys.argv[2]}: no SourceLink in its PDB"
PY
done
log "packages carry symbols with SourceLink and their repository"

log "building samples/OrderService against the packages"
dotnet build "$ROOT/samples/OrderService/OrderService.csproj" -c Release -p:OutboxVersion="$VERSION" -v q -nologo -clp:ErrorsOnly \
  >"$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }

dotnet "$TOOLS" dev-kafka --brokers 1 --topic orders:3 >"$WORK/kafka.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q '^bootstrap.servers=' "$WORK/kafka.log" && break; sleep 0.2; done
BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.log")"
[ -n "$BOOTSTRAP" ] || { cat "$WORK/kafka.log"; exit 1; }

# Runs the service from its output folder, as a deployed service runs: its appsettings.json configures the relay;
# the arguments (--Section:Key=value) override it.
start_service() {
  local log_file="$1"; shift
  (cd "$SERVICE_DIR" && exec dotnet OrderService.dll "--Kafka:BootstrapServers=$BOOTSTRAP" \
    "--Orleans:SiloPort=$(free_port)" "--Orleans:GatewayPort=$(free_port)" "$@") >"$log_file" 2>&1 &
  pids+=($!)
}

if [ -n "$serve_mode" ]; then
  log "embedded Kafka at $BOOTSTRAP (topic orders); the service on http://127.0.0.1:5080, database 'orders', store $serve_mode"
  log "try: curl -X POST http://127.0.0.1:5080/orders/42/pay; curl http://127.0.0.1:5080/health/ready; curl http://127.0.0.1:5080/metrics"
  log "     kcat -C -b $BOOTSTRAP -t orders -o beginning -f 'key=%k headers=%h value=%s\\n'"
  cd "$SERVICE_DIR"
  dotnet OrderService.dll --urls http://127.0.0.1:5080 "--Kafka:BootstrapServers=$BOOTSTRAP" "--Orders:Store=$serve_mode"
  exit 0
fi

# 1. Refusal of an unsafe setting, as the silo refuses it: the service stops at start-up naming the key.
refused_db="outbox_sample_refused"; databases+=("$refused_db")
set +e
# (stderr of the group: the shell's own "Aborted" line for the unhandled start-up exception.)
{ (cd "$SERVICE_DIR" && timeout 120 dotnet OrderService.dll --urls "http://127.0.0.1:$(free_port)" "--Kafka:BootstrapServers=$BOOTSTRAP" \
  "--ConnectionStrings:Orders=$(database_for $refused_db)" "--Outbox:ConnectionString=$(database_for $refused_db)" \
  "--Orleans:SiloPort=$(free_port)" "--Orleans:GatewayPort=$(free_port)" "--Kafka:Producer:acks=1") >"$WORK/refused.log" 2>&1; } 2>/dev/null
refused_exit=$?
set -e
if [ "$refused_exit" -ne 0 ] && grep -q "Kafka:Producer:acks=1 is refused" "$WORK/refused.log"; then
  log "Kafka:Producer:acks=1 stops the service at start-up: ok"
else
  tail -20 "$WORK/refused.log"; log "an unsafe producer override was not refused (exit $refused_exit)"; exit 1
fi

# 2. Each mode: its own database (created by the service), one order paid, readiness, gauges, the event on Kafka.
check_mode() {
  local store="$1" order="$2" db="$3"
  databases+=("$db")
  drop_database "$db"
  local port; port="$(free_port)"
  start_service "$WORK/service-$store.log" --urls "http://127.0.0.1:$port" "--Orders:Store=$store" \
    "--ConnectionStrings:Orders=$(database_for "$db")" "--Outbox:ConnectionString=$(database_for "$db")" \
    "--Telemetry:StatusPollInterval=00:00:01"
  local service_pid="${pids[-1]}"
  local answer=""
  for _ in $(seq 1 240); do
    answer="$(curl -sf -X POST "http://127.0.0.1:$port/orders/$order/pay" 2>/dev/null)" && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$WORK/service-$store.log"; log "$store: the service exited"; exit 1; }
    sleep 0.5
  done
  [ -n "$answer" ] || { tail -50 "$WORK/service-$store.log"; log "$store: the service did not answer"; exit 1; }
  local event_id; event_id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["eventId"])' "$answer")"
  log "$store: order $order paid, event $event_id enqueued (database $db created by the service)"

  local ready=""
  for _ in $(seq 1 60); do ready="$(curl -sf "http://127.0.0.1:$port/health/ready" 2>/dev/null)" && break; sleep 0.5; done
  [ "$ready" = "Healthy" ] || { log "$store: /health/ready answered '$ready'"; exit 1; }
  local metrics=""
  for _ in $(seq 1 60); do
    metrics="$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null || true)"
    grep -q '^outbox_backlog_oldest_age_seconds{' <<<"$metrics" && grep -q '^outbox_partitions_owned' <<<"$metrics" && break
    sleep 0.5
  done
  grep -q '^outbox_backlog_oldest_age_seconds{' <<<"$metrics" && grep -q '^outbox_partitions_owned' <<<"$metrics" \
    || { log "$store: /metrics lacks the relay's gauges"; exit 1; }
  log "$store: ready, and /metrics has outbox_backlog_oldest_age_seconds and outbox_partitions_owned"

  # An independent consumer reads the topic from the start until it meets this order's event.
  local received
  received="$(timeout 60 kcat -C -b "$BOOTSTRAP" -t orders -o beginning -c "$4" -q -f 'key=%k headers=%h value=%s\n' 2>"$WORK/kcat.log" \
    | grep "key=$order " || true)"
  log "$store: kafka: $received"
  case "$received" in
    *"key=$order "*"outbox-event-id=$event_id"*'"status":"paid"'*) log "$store: the event arrived: ok" ;;
    *) tail -30 "$WORK/service-$store.log"; cat "$WORK/kcat.log"
       # What the relay left behind, to tell a row it never saw from one it could not publish.
       PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d "$db" -X -c "select partition, id, event_id, deliver_at, parked_at, park_reason, tx, created_at from outbox.messages" \
         -c "select partition, epoch, owner, paused, last_published_at from outbox.partitions order by partition" -c "select pg_current_snapshot()" || true
       log "$store: the event did not arrive"; exit 1 ;;
  esac
  kill "$service_pid" 2>/dev/null || true
  wait "$service_pid" 2>/dev/null || true
}
check_mode Npgsql 42 outbox_sample 1
check_mode EntityFrameworkCore 43 outbox_sample_ef 2

# 3. The consuming end: samples/PaymentsService (the inbox, on the packed Outbox.Inbox) reads the orders topic from
# the start and records one payment per paid order in its own database, once, however often Kafka delivers it.
log "building samples/PaymentsService against the packages"
dotnet build "$ROOT/samples/PaymentsService/PaymentsService.csproj" -c Release -p:OutboxVersion="$VERSION" -v q -nologo -clp:ErrorsOnly \
  >"$WORK/build-payments.log" || { cat "$WORK/build-payments.log"; exit 1; }
payments_db="outbox_sample_payments"; databases+=("$payments_db"); drop_database "$payments_db"
PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d postgres -qX -c "create database $payments_db" >/dev/null
(cd "$ROOT/samples/PaymentsService/bin/Release/net10.0" && exec dotnet PaymentsService.dll "--Inbox:BootstrapServers=$BOOTSTRAP" \
  "--Inbox:ConnectionString=$(database_for "$payments_db")") >"$WORK/payments.log" 2>&1 &
pids+=($!)
payments=""
for _ in $(seq 1 120); do
  payments="$(PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d "$payments_db" -qAtX -c "select string_agg(order_id, ',' order by order_id) from payments" 2>/dev/null || true)"
  [ "$payments" = "42,43" ] && break
  sleep 0.5
done
[ "$payments" = "42,43" ] || { tail -30 "$WORK/payments.log"; log "payments: expected orders 42,43, found '$payments'"; exit 1; }
log "payments: orders 42 and 43 recorded once each by the inbox consumer: ok"
log "ok"
