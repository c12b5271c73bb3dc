#!/usr/bin/env bash
# Brings a fresh machine of this kind to the point where the relay builds and runs:
# Debian packages, a running local PostgreSQL with the outbox role, then restore + build. The native Kafka
# client (librdkafka) comes from NuGet with Confluent.Kafka (the librdkafka.redist package), like any .NET app's.
# Idempotent and quiet when everything is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION="${OUTBOX_PG_VERSION:-15}"

log() { printf 'setup: %s\n' "$*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_debian_packages() {
  local wanted=("postgresql-$PG_VERSION" postgresql-contrib kcat chromium openssl)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" '$1==v && $2=="main"' | grep -q .; then
    log "creating PostgreSQL $PG_VERSION cluster"
    sudo_if_needed pg_createcluster "$PG_VERSION" main >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
    log "starting PostgreSQL $PG_VERSION"
    sudo_if_needed pg_ctlcluster "$PG_VERSION" main start
  fi
  local psql=(sudo_if_needed runuser -u postgres -- psql -qtAX -v ON_ERROR_STOP=1)
  command -v runuser >/dev/null || psql=(sudo -u postgres psql -qtAX -v ON_ERROR_STOP=1)
  # Enough connections for a test suite that runs several silos next to the business workload.
  if [ "$("${psql[@]}" -c "show max_connections")" -lt 300 ]; then
    "${psql[@]}" -c "alter system set max_connections = 300" >/dev/null
    log "restarting PostgreSQL for max_connections"
    sudo_if_needed pg_ctlcluster "$PG_VERSION" main restart
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_roles where rolname='outbox'")" != "1" ]; then
    "${psql[@]}" -c "create role outbox login password 'outbox' createdb" >/dev/null
  fi
  # Tests drop their databases WITH (FORCE), which must also end autovacuum workers busy in them (the outbox
  # table vacuums eagerly); without pg_signal_backend that drop fails now and then.
  if [ "$("${psql[@]}" -c "select pg_has_role('outbox', 'pg_signal_backend', 'member')")" != "t" ]; then
    "${psql[@]}" -c "grant pg_signal_backend to outbox" >/dev/null
  fi
  if [ "$("${psql[@]}" -c "select 1 from pg_database where datname='outbox'")" != "1" ]; then
    "${psql[@]}" -c "create database outbox owner outbox" >/dev/null
  fi
}

build() {
  log "building the solution"
  dotnet build "$ROOT/Outbox.sln" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null \
    || dotnet build "$ROOT/Outbox.sln" -c Release -nologo -v quiet -clp:ErrorsOnly
}

ensure_debian_packages
ensure_postgres
[ "${OUTBOX_SKIP_BUILD:-0}" = "1" ] || build
