#!/usr/bin/env bash
# Runs every test of Quanzi: checks that generated code is current, installs the npm
# packages of the federation test, starts a throwaway Neo4j (unless NEO4J_URI is set) and
# Redis (unless REDIS_URL is set) and runs the Go test suite with the race detector against
# them.
#
# With CI=true, a missing tool or a Neo4j or Redis that will not start fails the run;
# locally the tests that need a server you have not got skip with a message saying so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }
ci() { [ "${CI:-}" = "true" ]; }

for tool in go node npm java mvn; do
  command -v "$tool" >/dev/null || die "$tool is not installed; it is needed to run every test"
done

say "generated code is current"
digest() { find graph resolvers -type f -name '*.go' -print0 | sort -z | xargs -0 sha256sum | sha256sum; }
before=$(digest)
go generate ./...
if [ "$before" != "$(digest)" ]; then
  git --no-pager diff --stat -- graph resolvers >&2 || true
  die "go generate changed graph/ or resolvers/: commit the regenerated code"
fi

say "npm packages of the federation test"
if [ ! -d federation/node_modules/@apollo/gateway ] || [ federation/package-lock.json -nt federation/node_modules/.package-lock.json ]; then
  npm ci --prefix federation --no-audit --no-fund --loglevel=error >&2
fi

started_neo4j=""
started_redis=""
cleanup() {
  if [ -n "$started_neo4j" ]; then scripts/neo4j.sh stop >&2 || true; fi
  if [ -n "$started_redis" ]; then scripts/redis.sh stop >&2 || true; fi
}
trap cleanup EXIT
if [ -z "${NEO4J_URI:-}" ]; then
  say "Neo4j"
  if line=$(scripts/neo4j.sh start | tail -n 1) && [ "${line%%=*}" = "NEO4J_URI" ]; then
    started_neo4j=yes
    export NEO4J_URI="${line#NEO4J_URI=}"
  elif ci; then
    die "Neo4j did not start, and CI needs it"
  else
    printf 'test.sh: Neo4j did not start; its tests will skip\n' >&2
  fi
fi
if [ -z "${REDIS_URL:-}" ]; then
  say "Redis"
  if line=$(scripts/redis.sh start | tail -n 1) && [ "${line%%=*}" = "REDIS_URL" ]; then
    started_redis=yes
    export REDIS_URL="${line#REDIS_URL=}"
  elif ci; then
    die "Redis did not start, and CI needs it"
  else
    printf 'test.sh: Redis did not start; its tests will skip\n' >&2
  fi
fi

say "go vet"
go vet ./...

say "go test"
go test -race -count=1 ./... "$@"
