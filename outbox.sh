#!/usr/bin/env bash
# One entry point.
#   ./outbox.sh demo [--events N --rate R --silos S --chaos]   the main job on embedded defaults
#   ./outbox.sh test [--fast]                                   every test; --fast: only the pure unit tests
#   ./outbox.sh bench | dev-kafka ...                           tooling (tests/Outbox.Tools): benchmark, embedded Kafka
#   ./outbox.sh sample [Npgsql|EntityFrameworkCore]             the sample service (samples/OrderService) on the packed
#                                                               packages and an embedded Kafka, at http://127.0.0.1:5080
#   ./outbox.sh <verb> ...                                      any silo CLI verb: silo, migrate, status, drain, parked, ...
# The development verbs (demo, test, bench, dev-kafka, sample) first set up this machine (Debian packages, the local
# PostgreSQL, the build: scripts/setup.sh). The operator verbs talk to the database they are given (--db, OUTBOX_DB)
# and never touch the machine: they only build the silo when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

verb="${1:-help}"
case "$verb" in
  test|demo|bench|dev-kafka|sample) "$ROOT/scripts/setup.sh" ;;
  *)
    dotnet build "$ROOT/src/Outbox.Silo/Outbox.Silo.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null \
      || dotnet build "$ROOT/src/Outbox.Silo/Outbox.Silo.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
    ;;
esac
case "$verb" in
  test)
    shift
    exec "$ROOT/scripts/test.sh" "$@"
    ;;
  sample)
    shift
    exec "$ROOT/scripts/sample.sh" --serve "${1:-Npgsql}"
    ;;
  demo|bench|dev-kafka)
    exec dotnet "$ROOT/tests/Outbox.Tools/bin/Release/net10.0/Outbox.Tools.dll" "$@"
    ;;
  help|-h|--help)
    exec dotnet "$ROOT/src/Outbox.Silo/bin/Release/net10.0/Outbox.Silo.dll" --help
    ;;
  *)
    exec dotnet "$ROOT/src/Outbox.Silo/bin/Release/net10.0/Outbox.Silo.dll" "$@"
    ;;
esac
