# shellcheck shell=bash
# Helpers shared by scripts/neo4j.sh and scripts/redis.sh, which set PID_FILE, PORT_FILE,
# PORT, HOST and SERVER_MATCH (a word of the server's command line) before sourcing this.

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
