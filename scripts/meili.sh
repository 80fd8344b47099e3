#!/usr/bin/env bash
# Start and stop a throwaway Meilisearch server for Quanzi's tests.
#
# No package registry ships a Meilisearch server: the binary comes from MEILI_BIN, or is
# `meilisearch` on the PATH (CI unpacks the one in ../shared/meilisearch/). The server
# listens on 127.0.0.1 only, with a random master key, no analytics, and its database in a
# fresh directory inside the state directory, removed on stop.
#
# Usage:
#   scripts/meili.sh start    start, wait for /health; the last two lines on stdout are
#                             MEILI_URL=http://127.0.0.1:<port> and MEILI_KEY=<master key>
#   scripts/meili.sh stop     SIGTERM (SIGKILL after 10 s), remove the database and state
#   scripts/meili.sh status   exit 0 if running (prints MEILI_URL and MEILI_KEY), 1 if not
#
# Environment:
#   MEILI_BIN              the meilisearch binary (default: meilisearch on the PATH)
#   MEILI_PORT             port (default 7700)
#   MEILI_STATE_DIR        pid/log/key/database (default ${TMPDIR:-/tmp}/quanzi-meili-<port>)
#   MEILI_START_TIMEOUT    seconds to wait for /health (default 30)
#   MEILI_STOP_TIMEOUT     seconds to wait after SIGTERM (default 10)
#
# Meilisearch itself reads every MEILI_* variable it knows as configuration; none of the
# caller's is passed on to it, so the server is the same whatever the caller's environment.
#
# Typical use in a test run:
#   eval "$(scripts/meili.sh start | tail -n 2)"; export MEILI_URL MEILI_KEY
#   ...; scripts/meili.sh stop
set -euo pipefail

HOST="127.0.0.1"
PORT="${MEILI_PORT:-7700}"
STATE_DIR="${MEILI_STATE_DIR:-${TMPDIR:-/tmp}/quanzi-meili-$PORT}"
START_TIMEOUT="${MEILI_START_TIMEOUT:-30}"
STOP_TIMEOUT="${MEILI_STOP_TIMEOUT:-10}"

SERVER_MATCH="meilisearch"
# shellcheck source=scripts/server-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/server-lib.sh"

log() { printf 'meili.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# set_paths names the files of the state dir, once it is known.
set_paths() {
  PID_FILE="$STATE_DIR/meili.pid"
  LOG_FILE="$STATE_DIR/meili.log"
  PORT_FILE="$STATE_DIR/port"
  KEY_FILE="$STATE_DIR/key"
  DATA_FILE="$STATE_DIR/datadir"
}
set_paths

# find_bin prints the binary to run: MEILI_BIN, or meilisearch on the PATH.
find_bin() {
  local bin="${MEILI_BIN:-}"
  if [[ -n "$bin" ]]; then
    [[ -f "$bin" && -x "$bin" ]] || die "MEILI_BIN=$bin is not an executable file"
  else
    bin="$(command -v meilisearch 2>/dev/null)" \
      || die "no Meilisearch binary: set MEILI_BIN, or put meilisearch on the PATH (the README says how to provide one)"
  fi
  printf '%s\n' "$bin"
}

# healthy PORT: does the server on PORT answer /health with "available"? Plain bash, so
# that the script needs no HTTP client; HTTP/1.0 makes the server close when it has answered.
healthy() {
  # SC2016: $0/$1 belong to the inner shell.
  # shellcheck disable=SC2016
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET /health HTTP/1.0\r\nHost: %s\r\n\r\n" "$0" >&3 && cat <&3' \
    "$HOST" "$1" 2>/dev/null | grep -q '"available"'
}

print_env() {
  printf 'MEILI_URL=http://%s:%s\n' "$HOST" "$(recorded_port)"
  printf 'MEILI_KEY=%s\n' "$(cat "$KEY_FILE")"
}

# Remove only what this script writes, then the state dir if that left it empty, so a
# MEILI_STATE_DIR that holds anything else is kept.
cleanup_state() {
  local data
  if [[ -f "$DATA_FILE" ]]; then
    data="$(cat "$DATA_FILE")"
    # Only ever remove a directory this script created.
    if [[ -n "$data" && -d "$data" && "$(basename "$data")" == data.* ]]; then
      rm -rf -- "$data"
    fi
  fi
  rm -f "$PID_FILE" "$LOG_FILE" "$PORT_FILE" "$KEY_FILE" "$DATA_FILE"
  rmdir "$STATE_DIR" 2>/dev/null || true
}

cmd_start() {
  local pid
  if pid="$(server_pid)" && [[ -s "$KEY_FILE" ]]; then
    log "already running (pid $pid, port $(recorded_port), log $LOG_FILE)"
    print_env
    return 0
  fi
  # Stale state from a server that died: clean it up before starting afresh.
  cleanup_state

  [[ "$PORT" =~ ^[0-9]+$ ]] || die "MEILI_PORT must be a number, got '$PORT'"
  local bin
  bin="$(find_bin)"
  if port_open "$PORT"; then
    die "port $PORT on $HOST is already in use by another process; set MEILI_PORT"
  fi

  mkdir -p "$STATE_DIR"
  STATE_DIR="$(cd "$STATE_DIR" && pwd -P)"
  set_paths
  local data key
  data="$(mktemp -d "$STATE_DIR/data.XXXXXXXX")"
  printf '%s\n' "$data" >"$DATA_FILE"
  printf '%s\n' "$PORT" >"$PORT_FILE"
  # 32 URL-safe characters; the key file is readable by its owner only.
  key="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
  (umask 077 && printf '%s\n' "$key" >"$KEY_FILE")
  : >"$LOG_FILE"

  # The caller's MEILI_* variables are dropped (Meilisearch would read them as its own
  # settings); the key is passed in the environment, not on the command line, where any
  # user could read it. The server runs in its empty data dir, where it finds no
  # config.toml to read. The inner shell records its own pid and then execs the server,
  # so the pid file names the server whether or not setsid had to fork; setsid detaches
  # it from the caller's terminal and process group.
  local unset=() var
  for var in $(compgen -e); do
    if [[ "$var" == MEILI_* ]]; then unset+=(-u "$var"); fi
  done
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  # SC2016: $$/$0/$@ belong to the inner shell.
  # shellcheck disable=SC2016
  "${detach[@]}" env ${unset[@]+"${unset[@]}"} MEILI_MASTER_KEY="$key" \
    nohup bash -c 'echo $$ >"$0"; cd "$1" && shift && exec "$@"' "$PID_FILE" "$data" \
    "$bin" --db-path "$data/data.ms" --http-addr "$HOST:$PORT" --env development \
      --no-analytics --log-level WARN \
    </dev/null >>"$LOG_FILE" 2>&1 &

  local version
  version="$("$bin" --version 2>/dev/null | awk '{print $2}' || true)"
  log "starting Meilisearch${version:+ $version} from $bin on $HOST:$PORT (data $data, log $LOG_FILE)..."
  local deadline=$((SECONDS + START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if ! pid="$(server_pid)"; then
      # The pid file may not be written yet right after the fork.
      if [[ -s "$PID_FILE" ]] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        log "error: the Meilisearch process exited during start-up"
        print_log_tail
        cleanup_state
        exit 1
      fi
    elif healthy "$PORT"; then
      started=1
      break
    fi
    sleep 0.2
  done
  if [[ -z "$started" ]]; then
    log "error: Meilisearch did not answer /health on $HOST:$PORT within ${START_TIMEOUT}s"
    print_log_tail
    cmd_stop >/dev/null 2>&1 || true
    exit 1
  fi
  log "started (pid $pid)"
  print_env
}

cmd_stop() {
  local pid
  if pid="$(server_pid)"; then
    stop_pid Meilisearch "$pid"
  else
    log "not running"
  fi
  cleanup_state
}

cmd_status() {
  local pid
  if pid="$(server_pid)" && [[ -s "$KEY_FILE" ]]; then
    log "running (pid $pid, log $LOG_FILE)"
    print_env
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {start|stop|status}" >&2
    exit 2
    ;;
esac
