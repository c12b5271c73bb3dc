#!/usr/bin/env bash
# Packs Outbox.Contracts and Outbox.Grains, builds the sample service (samples/OrderService) against those
# packages as a user's project would, runs it on the local PostgreSQL and an embedded Kafka, pays one order over
# HTTP, and checks with an independent consumer (kcat) that the order's event reached Kafka: its key, its
# event id, its payload. Exit 0 when it did. Needs the Release build (scripts/setup.sh); scripts/test.sh runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/artifacts/sample"
PACKAGES="$ROOT/artifacts/packages"
TOOLS="$ROOT/tests/Outbox.Tools/bin/Release/net10.0/Outbox.Tools.dll"
SERVER="${OUTBOX_DB:-Host=127.0.0.1;Username=outbox;Password=outbox;Database=outbox}"
DATABASE="outbox_sample"
# A version of its own per run (time and process id: clones on one machine share NuGet's global packages
# folder), so that cache never serves an older build of the packages under an equal version. This run's copies
# are removed from the cache again at exit, and an earlier run's packages from artifacts/packages before packing.
VERSION_SUFFIX="ci.$(date +%s).$$"
VERSION="0.1.0-$VERSION_SUFFIX"
NUGET_CACHE="$(dotnet nuget locals global-packages -l | sed -n 's/^global-packages: //p')"
log() { printf 'sample: %s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

rm -rf "$WORK" && mkdir -p "$WORK" "$PACKAGES"
rm -f "$PACKAGES"/Outbox.*-ci.*.nupkg "$PACKAGES"/Outbox.*-ci.*.snupkg
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$NUGET_CACHE" ] && rm -rf "$NUGET_CACHE/outbox.contracts/$VERSION" "$NUGET_CACHE/outbox.grains/$VERSION"
  return 0
}
trap cleanup EXIT

log "packing $VERSION"
for package in Outbox.Contracts Outbox.Grains; do
  dotnet pack "$ROOT/src/$package/$package.csproj" -c Release --no-build --version-suffix "$VERSION_SUFFIX" -o "$PACKAGES" \
    -v q -nologo >>"$WORK/pack.log" || { cat "$WORK/pack.log"; exit 1; }
  [ -f "$PACKAGES/$package.$VERSION.nupkg" ] || { log "$package.$VERSION.nupkg was not produced"; exit 1; }
done

log "building samples/OrderService against the packages"
dotnet build "$ROOT/samples/OrderService/OrderService.csproj" -c Release -p:OutboxVersion="$VERSION" -v q -nologo -clp:ErrorsOnly \
  >"$WORK/build.log" || { cat "$WORK/build.log"; exit 1; }

dotnet "$TOOLS" dev-kafka --brokers 1 --topic orders:3 >"$WORK/kafka.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do grep -q '^bootstrap.servers=' "$WORK/kafka.log" && break; sleep 0.2; done
BOOTSTRAP="$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.log")"
[ -n "$BOOTSTRAP" ] || { cat "$WORK/kafka.log"; exit 1; }

PGOPTIONS="-c client_min_messages=warning" PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d postgres -qX -v ON_ERROR_STOP=1 \
  -c "drop database if exists $DATABASE with (force)" -c "create database $DATABASE" >/dev/null
HTTP_PORT="$(free_port)"
# From its output folder, as a deployed service runs: its appsettings.json configures the relay.
(cd "$ROOT/samples/OrderService/bin/Release/net10.0" && exec dotnet OrderService.dll --urls "http://127.0.0.1:$HTTP_PORT" \
  "--ConnectionStrings:Orders=${SERVER/Database=outbox/Database=$DATABASE}" "--Outbox:ConnectionString=${SERVER/Database=outbox/Database=$DATABASE}" \
  "--Kafka:BootstrapServers=$BOOTSTRAP" \
  "--Orleans:SiloPort=$(free_port)" "--Orleans:GatewayPort=$(free_port)") >"$WORK/service.log" 2>&1 &
pids+=($!)
log "service on http://127.0.0.1:$HTTP_PORT, embedded Kafka at $BOOTSTRAP"

# Pay order 42 once the service answers (it listens after its silo has started).
answer=""
for _ in $(seq 1 240); do
  answer="$(curl -sf -X POST "http://127.0.0.1:$HTTP_PORT/orders/42/pay" 2>/dev/null)" && break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$WORK/service.log"; log "the service exited"; exit 1; }
  sleep 0.5
done
[ -n "$answer" ] || { tail -50 "$WORK/service.log"; log "the service did not answer"; exit 1; }
event_id="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["eventId"])' "$answer")"
log "order 42 paid, event $event_id enqueued"

# An independent consumer: the first message on the topic must be that event.
received="$(timeout 60 kcat -C -b "$BOOTSTRAP" -t orders -o beginning -c 1 -q -f 'key=%k headers=%h value=%s\n' 2>"$WORK/kcat.log" || true)"
log "kafka: $received"
case "$received" in
  *"key=42 "*"outbox-event-id=$event_id"*'"status":"paid"'*) log "one event arrived: ok" ;;
  *) tail -30 "$WORK/service.log"; cat "$WORK/kcat.log"; log "the event did not arrive"; exit 1 ;;
esac
PGPASSWORD=outbox psql -h 127.0.0.1 -U outbox -d postgres -qX -c "drop database if exists $DATABASE with (force)" >/dev/null || true
