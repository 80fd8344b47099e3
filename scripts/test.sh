#!/usr/bin/env bash
# Runs every test of Quanzi: checks that generated code is current, installs the npm
# packages of the federation test, starts a throwaway Neo4j (unless NEO4J_URI is set),
# Redis (unless REDIS_URL is set) and Meilisearch (unless MEILI_URL is set; the binary is
# MEILI_BIN or meilisearch on the PATH) and runs the Go test suite with the race detector
# against them.
#
# With CI=true, a missing tool or a Neo4j, Redis or Meilisearch that will not start fails
# the run; locally the tests that need a server you have not got skip with a message
# saying so.
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

# Servers this run started, to stop when it ends.
started=()
cleanup() {
  local name
  for name in ${started[@]+"${started[@]}"}; do scripts/"$name".sh stop >&2 || true; done
}
trap cleanup EXIT

# start_server NAME TITLE VAR...: unless the first VAR is set, starts a throwaway server
# with scripts/NAME.sh and exports each VAR from the line it prints for it (VAR=value).
start_server() {
  local name=$1 title=$2 out line var
  shift 2
  [ -n "${!1:-}" ] && return 0
  say "$title"
  local -A got=()
  if out=$(scripts/"$name".sh start); then
    started+=("$name")
    while IFS= read -r line; do
      for var; do
        if [ "${line%%=*}" = "$var" ]; then got[$var]=${line#"$var"=}; fi
      done
    done <<<"$out"
  fi
  for var; do
    if [ -z "${got[$var]+set}" ]; then
      if ci; then die "$title did not start, and CI needs it"; fi
      printf 'test.sh: %s did not start; its tests will skip\n' "$title" >&2
      return 0
    fi
  done
  for var; do export "$var=${got[$var]}"; done
}
start_server neo4j Neo4j NEO4J_URI
start_server redis Redis REDIS_URL
start_server meili Meilisearch MEILI_URL MEILI_KEY

say "go vet"
go vet ./...

say "go test"
go test -race -count=1 ./... "$@"
