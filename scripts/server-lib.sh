# shellcheck shell=bash
# Helpers shared by scripts/neo4j.sh, scripts/redis.sh and scripts/meili.sh, which set
# PID_FILE, PORT_FILE, PORT, HOST, LOG_FILE, STOP_TIMEOUT and SERVER_MATCH (a word of the
# server's command line) and define log before sourcing this.

# Is the recorded pid alive and really our server (guards against pid reuse)?
server_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$SERVER_MATCH" || return 1
  fi
  printf '%s\n' "$pid"
}

recorded_port() {
  if [[ -f "$PORT_FILE" ]]; then cat "$PORT_FILE"; else printf '%s\n' "$PORT"; fi
}

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

print_log_tail() {
  if [[ -s "$LOG_FILE" ]]; then
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 || true
  fi
}

# stop_pid NAME PID: SIGTERM, then SIGKILL if PID still runs after STOP_TIMEOUT seconds.
stop_pid() {
  local name="$1" pid="$2"
  log "stopping $name (pid $pid)..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  log "stopped"
}
