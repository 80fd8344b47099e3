#!/usr/bin/env bash
# Start and stop a throwaway Neo4j 5.26 LTS Community server for Quanzi's tests.
#
# Neo4j comes from Maven Central only: scripts/neo4j/ is a small Maven project
# that runs an embedded Neo4j with the Bolt connector on 127.0.0.1, auth
# disabled, and its data in a fresh temporary directory.
#
# Usage:
#   scripts/neo4j.sh start    build if needed, start, wait for Bolt; the last
#                             line on stdout is NEO4J_URI=bolt://127.0.0.1:<port>
#   scripts/neo4j.sh stop     SIGTERM (SIGKILL after 30 s), remove the data dir
#   scripts/neo4j.sh status   exit 0 if running (prints NEO4J_URI), 1 if not
#   scripts/neo4j.sh build    only build the Maven project
#
# Environment:
#   NEO4J_PORT             Bolt port (default 7687)
#   NEO4J_STATE_DIR        pid/log/state files (default ${TMPDIR:-/tmp}/quanzi-neo4j)
#   NEO4J_HEAP             JVM heap, -Xms and -Xmx (default 512m)
#   NEO4J_PAGECACHE_MIB    page cache size in MiB (default 64)
#   NEO4J_START_TIMEOUT    seconds to wait for Bolt (default 120)
#   NEO4J_STOP_TIMEOUT     seconds to wait after SIGTERM (default 30)
#   NEO4J_JAVA_OPTS        extra JVM options
#
# Typical use in a test run:
#   eval "$(scripts/neo4j.sh start | tail -n 1)"; export NEO4J_URI
#   ...; scripts/neo4j.sh stop
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$SCRIPT_DIR/neo4j"
TARGET_DIR="$PROJECT_DIR/target"
CLASSPATH_FILE="$TARGET_DIR/classpath.txt"
BUILD_STAMP="$TARGET_DIR/.quanzi-build-stamp"
MAIN_CLASS="quanzi.neo4j.TestServer"
READY_MARKER="QUANZI_NEO4J_READY"

HOST="127.0.0.1"
PORT="${NEO4J_PORT:-7687}"
STATE_DIR="${NEO4J_STATE_DIR:-${TMPDIR:-/tmp}/quanzi-neo4j}"
HEAP="${NEO4J_HEAP:-512m}"
PAGECACHE_MIB="${NEO4J_PAGECACHE_MIB:-64}"
START_TIMEOUT="${NEO4J_START_TIMEOUT:-120}"
STOP_TIMEOUT="${NEO4J_STOP_TIMEOUT:-30}"

PID_FILE="$STATE_DIR/neo4j.pid"
LOG_FILE="$STATE_DIR/neo4j.log"
DATA_FILE="$STATE_DIR/datadir"
PORT_FILE="$STATE_DIR/port"

SERVER_MATCH="$MAIN_CLASS"
# shellcheck source=scripts/server-lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/server-lib.sh"

log() { printf 'neo4j.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"
}

needs_build() {
  [[ -f "$BUILD_STAMP" && -f "$CLASSPATH_FILE" ]] || return 0
  [[ -f "$TARGET_DIR/classes/quanzi/neo4j/TestServer.class" ]] || return 0
  # Rebuild when the pom or a source is newer than the last build.
  [[ -n "$(find "$PROJECT_DIR/pom.xml" "$PROJECT_DIR/src" -newer "$BUILD_STAMP" -print -quit)" ]] && return 0
  # Rebuild when a jar on the recorded classpath has gone (e.g. ~/.m2 was wiped).
  local jar
  while IFS= read -r -d ':' jar; do
    [[ -z "$jar" || -e "$jar" ]] || return 0
  done < <(cat "$CLASSPATH_FILE"; printf ':')
  return 1
}

build() {
  need java "install a JDK 17+, e.g. 'apt-get install openjdk-17-jdk-headless'"
  need mvn "install Maven, e.g. 'apt-get install maven'"
  log "building the Neo4j test server (first run downloads Neo4j from Maven Central)..."
  # Maven's own output goes to stderr so that stdout stays machine-readable;
  # sed drops the stray colour codes some Maven 3.8 builds print even with -B.
  if ! (cd "$PROJECT_DIR" && mvn -q -B compile 2>&1) | sed 's/\x1b\[[0-9;]*m//g' >&2; then
    die "Maven build of $PROJECT_DIR failed (could Neo4j be downloaded from Maven Central?)"
  fi
  [[ -s "$CLASSPATH_FILE" ]] || die "Maven build did not write $CLASSPATH_FILE"
  touch "$BUILD_STAMP"
}

print_tail() {
  print_log_tail
  # Neo4j's own log lives in the data dir, which stop/cleanup removes.
  local data debug
  data="$(cat "$DATA_FILE" 2>/dev/null || true)"
  debug="$data/logs/debug.log"
  if [[ -n "$data" && -s "$debug" ]]; then
    log "last lines of Neo4j's debug.log:"
    tail -n 40 "$debug" >&2 || true
  fi
}

cleanup_state() {
  local data
  if [[ -f "$DATA_FILE" ]]; then
    data="$(cat "$DATA_FILE")"
    # Only ever remove a directory this script created.
    if [[ -n "$data" && -d "$data" && "$(basename "$data")" == quanzi-neo4j-data.* ]]; then
      rm -rf -- "$data"
    fi
  fi
  rm -f "$PID_FILE" "$DATA_FILE" "$PORT_FILE"
}

cmd_start() {
  local pid port
  mkdir -p "$STATE_DIR"
  if pid="$(server_pid)"; then
    port="$(recorded_port)"
    log "already running (pid $pid, port $port, log $LOG_FILE)"
    printf 'NEO4J_URI=bolt://%s:%s\n' "$HOST" "$port"
    return 0
  fi
  # Stale state from a server that died: clean it up before starting afresh.
  cleanup_state

  [[ "$PORT" =~ ^[0-9]+$ ]] || die "NEO4J_PORT must be a number, got '$PORT'"
  need java "install a JDK 17+, e.g. 'apt-get install openjdk-17-jdk-headless'"
  if port_open "$PORT"; then
    die "port $PORT on $HOST is already in use by another process; set NEO4J_PORT"
  fi
  if needs_build; then build; fi

  local data classpath
  data="$(mktemp -d "${TMPDIR:-/tmp}/quanzi-neo4j-data.XXXXXXXX")"
  classpath="$TARGET_DIR/classes:$(cat "$CLASSPATH_FILE")"
  printf '%s\n' "$data" >"$DATA_FILE"
  printf '%s\n' "$PORT" >"$PORT_FILE"
  : >"$LOG_FILE"

  # JVM flags: -XX:TieredStopAtLevel=1 (C1 JIT only) roughly halves start-up
  # on a 2-core machine and is plenty for test workloads (NEO4J_JAVA_OPTS comes
  # later on the command line, so -XX:TieredStopAtLevel=4 there undoes it).
  # The --add-opens flags are the ones Neo4j's own launcher passes; without
  # them the page cache and transaction logs fall back to slower paths.
  # The inner shell records its own pid and then execs java, so the pid file
  # names the JVM whether or not setsid had to fork. setsid detaches the
  # server from the caller's terminal and process group.
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  # SC2016: $$/$0/$@ belong to the inner shell. SC2086: NEO4J_JAVA_OPTS is
  # split into words on purpose.
  # shellcheck disable=SC2016,SC2086
  "${detach[@]}" nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java "-Xms$HEAP" "-Xmx$HEAP" -Xss2m -XX:TieredStopAtLevel=1 \
      -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -XX:+ExitOnOutOfMemoryError \
      -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true \
      -Dlog4j2.disable.jmx=true \
      --add-opens=java.base/java.nio=ALL-UNNAMED \
      --add-opens=java.base/java.io=ALL-UNNAMED \
      --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
      --add-opens=java.base/java.lang=ALL-UNNAMED \
      "-Dquanzi.neo4j.pagecacheMiB=$PAGECACHE_MIB" \
      ${NEO4J_JAVA_OPTS:-} \
      -cp "$classpath" "$MAIN_CLASS" "$data" "$PORT" "$HOST" \
    </dev/null >>"$LOG_FILE" 2>&1 &

  log "starting Neo4j on $HOST:$PORT (data $data, log $LOG_FILE)..."
  local deadline=$((SECONDS + START_TIMEOUT)) started=""
  while ((SECONDS < deadline)); do
    if ! pid="$(server_pid)"; then
      # The pid file may not be written yet right after the fork.
      if [[ -s "$PID_FILE" ]] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        log "error: the Neo4j process exited during start-up"
        print_tail
        cleanup_state
        exit 1
      fi
    elif grep -q "^$READY_MARKER " "$LOG_FILE" && port_open "$PORT"; then
      started=1
      break
    fi
    sleep 0.5
  done
  if [[ -z "$started" ]]; then
    log "error: Neo4j did not accept Bolt connections on $HOST:$PORT within ${START_TIMEOUT}s"
    print_tail
    cmd_stop >/dev/null 2>&1 || true
    exit 1
  fi
  log "$(grep -m1 'Quanzi Neo4j test server: .* started' "$LOG_FILE" | sed 's/^Quanzi Neo4j test server: //') (pid $pid)"
  printf 'NEO4J_URI=bolt://%s:%s\n' "$HOST" "$PORT"
}

cmd_stop() {
  local pid
  if pid="$(server_pid)"; then
    stop_pid Neo4j "$pid"
  else
    log "not running"
  fi
  cleanup_state
}

cmd_status() {
  local pid
  if pid="$(server_pid)"; then
    log "running (pid $pid, log $LOG_FILE)"
    printf 'NEO4J_URI=bolt://%s:%s\n' "$HOST" "$(recorded_port)"
    return 0
  fi
  log "not running"
  return 1
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  build) build ;;
  *)
    echo "usage: $0 {start|stop|status|build}" >&2
    exit 2
    ;;
esac
