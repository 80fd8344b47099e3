#!/usr/bin/env bash
# Start and stop a throwaway Redis server for Quanzi's tests.
#
# Redis comes from Debian's redis-server package, installed with apt-get when
# it is missing (as root, or through sudo). The server listens on 127.0.0.1
# only, keeps nothing on disk (no RDB snapshots, no AOF) and runs daemonized
# with its pid and log files in the state directory.
#
# Usage:
#   scripts/redis.sh start    install if needed, start, wait for PING; the last
#                             line on stdout is REDIS_URL=redis://127.0.0.1:<port>/0
#   scripts/redis.sh stop     SIGTERM (SIGKILL after 10 s), remove the state dir
#   scripts/redis.sh status   exit 0 if running (prints REDIS_URL), 1 if not
#
# Environment:
#   REDIS_PORT             port (default 6390)
#   REDIS_STATE_DIR        pid/log/state files (default ${TMPDIR:-/tmp}/quanzi-redis-<port>)
#   REDIS_START_TIMEOUT    seconds to wait for PONG (default 20)
#   REDIS_STOP_TIMEOUT     seconds to wait after SIGTERM (default 10)
#
# Typical use in a test run:
#   eval "$(scripts/redis.sh start | tail -n 1)"; export REDIS_URL
#   ...; scripts/redis.sh stop
set -euo pipefail

HOST="127.0.0.1"
PORT="${REDIS_PORT:-6390}"
STATE_DIR="${REDIS_STATE_DIR:-${TMPDIR:-/tmp}/quanzi-redis-$PORT}"
START_TIMEOUT="${REDIS_START_TIMEOUT:-20}"
STOP_TIMEOUT="${REDIS_STOP_TIMEOUT:-10}"

PID_FILE="$STATE_DIR/redis.pid"
LOG_FILE="$STATE_DIR/redis.log"
PORT_FILE="$STATE_DIR/port"

SERVER_MATCH="redis-server"
# shellcheck source=scripts/server-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/server-lib.sh"

log() { printf 'redis.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Install redis-server (which brings redis-cli) from Debian's packages when missing.
# apt-get's output goes to stderr so that stdout stays machine-readable.
install_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 \
    || die "redis-server is not installed and there is no apt-get to install it; install Redis 7 yourself"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 \
      || die "redis-server is not installed, and installing it needs root: run 'apt-get install redis-server' as root"
    sudo=(sudo)
  fi
  log "installing redis-server from Debian's packages..."
  "${sudo[@]}" apt-get update >&2 \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server >&2 \
    || die "apt-get install redis-server failed"
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after installing it"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli still not on PATH after installing redis-server"
}

answers_ping() {
  [[ "$(timeout 2 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" == "PONG" ]]
}

# Is the server on the recorded port ours? Its working directory is our state dir.
ours_on_port() {
  command -v redis-cli >/dev/null 2>&1 || return 1
  local dir
  dir="$(timeout 2 redis-cli -h "$HOST" -p "$1" config get dir 2>/dev/null | sed -n 2p)"
  [[ -n "$dir" && "$dir" == "$(cd "$STATE_DIR" 2>/dev/null && pwd -P)" ]]
}

# Remove only the files this script writes, then the state dir if that left it empty,
# so a REDIS_STATE_DIR that holds anything else is kept.
cleanup_state() {
  rm -f "$PID_FILE" "$LOG_FILE" "$PORT_FILE"
  rmdir "$STATE_DIR" 2>/dev/null || true
}

cmd_start() {
  local pid port
  if pid="$(server_pid)"; then
    port="$(recorded_port)"
    log "already running (pid $pid, port $port, log $LOG_FILE)"
    printf 'REDIS_URL=redis://%s:%s/0\n' "$HOST" "$port"
    return 0
  fi
  # Stale state from a server that died: clean it up before starting afresh.
  cleanup_state

  [[ "$PORT" =~ ^[0-9]+$ ]] || die "REDIS_PORT must be a number, got '$PORT'"
  install_redis
  if port_open "$PORT"; then
    die "port $PORT on $HOST is already in use by another process; set REDIS_PORT"
  fi

  mkdir -p "$STATE_DIR"
  STATE_DIR="$(cd "$STATE_DIR" && pwd -P)"
  PID_FILE="$STATE_DIR/redis.pid"
  LOG_FILE="$STATE_DIR/redis.log"
  PORT_FILE="$STATE_DIR/port"
  printf '%s\n' "$PORT" >"$PORT_FILE"
  : >"$LOG_FILE"

  # No config file: everything is on the command line. --save '' and
  # --appendonly no keep the server off the disk; --dir keeps anything it
  # might still write in the state dir. redis-server forks and returns once
  # the configuration is accepted; a bad one fails here, on stderr.
  log "starting Redis on $HOST:$PORT (state $STATE_DIR, log $LOG_FILE)..."
  if ! redis-server --bind "$HOST" --port "$PORT" --protected-mode yes \
      --save '' --appendonly no --dir "$STATE_DIR" \
      --daemonize yes --pidfile "$PID_FILE" --logfile "$LOG_FILE" >&2; then
    log "error: redis-server refused to start"
    print_log_tail
    cleanup_state
    exit 1
  fi

  local deadline=$((SECONDS + START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if answers_ping "$PORT"; then
      started=1
      break
    fi
    # The pid file is written once the server has forked; a server that then
    # exits (a port taken in between, say) will never answer.
    if [[ -s "$PID_FILE" ]] && ! server_pid >/dev/null; then
      log "error: the Redis process exited during start-up"
      print_log_tail
      cleanup_state
      exit 1
    fi
    sleep 0.2
  done
  if [[ -z "$started" ]]; then
    log "error: Redis did not answer PING on $HOST:$PORT within ${START_TIMEOUT}s"
    print_log_tail
    cmd_stop >/dev/null 2>&1 || true
    exit 1
  fi
  pid="$(server_pid || true)"
  log "$(redis-server --version | cut -d' ' -f1-3) started (pid ${pid:-unknown})"
  printf 'REDIS_URL=redis://%s:%s/0\n' "$HOST" "$PORT"
}

cmd_stop() {
  local pid port
  port="$(recorded_port)"
  if pid="$(server_pid)"; then
    stop_pid Redis "$pid"
  elif [[ -f "$PORT_FILE" ]] && ours_on_port "$port"; then
    # The pid file has gone, but the server on the recorded port is ours.
    log "stopping Redis on $HOST:$port (no pid file)..."
    timeout 5 redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || true
    log "stopped"
  else
    log "not running"
  fi
  cleanup_state
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    log "running (pid $pid, log $LOG_FILE)"
    printf 'REDIS_URL=redis://%s:%s/0\n' "$HOST" "$(recorded_port)"
    return 0
  fi
  if [[ -f "$PORT_FILE" ]] && ours_on_port "$(recorded_port)"; then
    log "running (pid file gone, log $LOG_FILE)"
    printf 'REDIS_URL=redis://%s:%s/0\n' "$HOST" "$(recorded_port)"
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
