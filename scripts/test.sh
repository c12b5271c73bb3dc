#!/usr/bin/env bash
# Runs every test (unit, integration on real PostgreSQL + embedded Kafka, multi-process cluster tests, and
# scripts/sample.sh: the NuGet packages and the sample service built on them) and ends with one plain line
# "tests: N passed, N failed". Extra arguments go to `dotnet test` (e.g. --filter, which skips the sample).
#   --fast   only the pure unit tests ([Trait("Category", "Unit")]: no database, no Kafka), in seconds;
#            combines with a --filter of your own.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="$ROOT/artifacts/test-results"
fast=0 filter="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) fast=1 ;;
    --filter) filter="$2"; shift ;;
    --filter=*) filter="${1#--filter=}" ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ "$fast" = 1 ]; then filter="Category=Unit${filter:+&($filter)}"; fi
[ -n "$filter" ] && args+=(--filter "$filter")
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
dotnet test "$ROOT/tests/Outbox.Tests/Outbox.Tests.csproj" -c Release --no-build \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --results-directory "$RESULTS" ${args[@]+"${args[@]}"} \
  2>&1 | tee "$RESULTS/console.log"
rc=${PIPESTATUS[0]}
trx="$RESULTS/tests.trx"
passed=$(grep -o 'passed="[0-9]*"' "$trx" 2>/dev/null | head -n1 | tr -dc 0-9)
failed=$(grep -o 'failed="[0-9]*"' "$trx" 2>/dev/null | head -n1 | tr -dc 0-9)
passed=${passed:-0} failed=${failed:-0}
# The full run also packs the NuGet packages and runs the sample service against them (one more test).
if [ -z "$filter" ]; then
  if "$ROOT/scripts/sample.sh" 2>&1 | tee "$RESULTS/sample.log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)) rc=1
  fi
fi
echo "tests: $passed passed, $failed failed"
if [ "$passed" -eq 0 ]; then
  echo "tests: no test ran" >&2
  exit 1
fi
exit "$rc"
