#!/usr/bin/env bash
# Switchboard benchmark (ingest and end-to-end delivery): one command, one machine, one report.
#
#   bench/run.sh              full run (about 10 minutes after the build)
#   bench/run.sh --quick      shorter phases and a small backlog (about 3 minutes), for checking
#   bench/run.sh --no-build   use target/switchboard.jar as it is
#   bench/run.sh --ingest-only  skip the delivery phases
#   bench/run.sh --store postgres   the gateway on a PostgreSQL server started by the script
#   bench/run.sh --store postgres --nodes 3   three gateways on that database behind nginx
#   bench/run.sh --tracing    the same with OpenTelemetry tracing on, spans exported over OTLP/HTTP
#                             to a local sink that answers 200 (bench/out/<store>-<nodes>-tracing/)
#
# Builds the jar, measures nginx answering 202 to the same signed requests (the machine's
# ceiling), starts the gateway on a fresh SQLite file, drives it with wrk at full speed, then at
# half that rate with a constant-rate client, checks that every acknowledged event is in the
# database after a SIGKILL. Then starts the gateway again on another fresh file, delivering every
# event to a fake destination (Receiver.java): end-to-end latency at the same half rate,
# throughput at full speed, and how fast a paused destination's backlog drains. Writes
# bench/out/<store>-<nodes>/report.md (and a copy in bench/out/report.md). See bench/README.md.
#
# Everything listens on 127.0.0.1 only; every phase is bounded in time; the gateway(s), nginx,
# PostgreSQL and the receiver are stopped on exit, whatever happens.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT_ROOT="$BENCH/out"

# ---- settings (environment overrides) -------------------------------------------------------
MODE=full
BUILD=1
DELIVERY=1
STORE=sqlite
NODES=1
TRACING=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick ;;
    --no-build) BUILD=0 ;;
    --ingest-only) DELIVERY=0 ;;
    --store) [ $# -ge 2 ] || { echo "bench: --store needs sqlite or postgres" >&2; exit 2; }; STORE=$2; shift ;;
    --store=*) STORE=${1#--store=} ;;
    --nodes) [ $# -ge 2 ] || { echo "bench: --nodes needs a number" >&2; exit 2; }; NODES=$2; shift ;;
    --nodes=*) NODES=${1#--nodes=} ;;
    --tracing) TRACING=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$STORE" in sqlite|postgres) ;; *) echo "bench: --store is sqlite or postgres, not $STORE" >&2; exit 2 ;; esac
case "$NODES" in ''|*[!0-9]*) echo "bench: --nodes needs a number" >&2; exit 2 ;; esac
[ "$NODES" -ge 1 ] && [ "$NODES" -le 8 ] || { echo "bench: --nodes is 1 to 8" >&2; exit 2; }
[ "$NODES" = 1 ] || [ "$STORE" = postgres ] || { echo "bench: --nodes above 1 needs --store postgres" >&2; exit 2; }
# each store/node count has its own folder, so the reports of several runs sit side by side
# (bench/compare.sh puts them in one table); the signed requests are shared by all runs
OUT="$OUT_ROOT/$STORE-$NODES$( [ "$TRACING" = 1 ] && echo -tracing || true )"
if [ "$MODE" = quick ]; then
  WARMUP_S=${BENCH_WARMUP_S:-5}; MEASURE_S=${BENCH_MEASURE_S:-10}; HALF_S=${BENCH_HALF_S:-10}
  NGINX_WARMUP_S=${BENCH_NGINX_WARMUP_S:-2}
else
  WARMUP_S=${BENCH_WARMUP_S:-10}; MEASURE_S=${BENCH_MEASURE_S:-30}; HALF_S=${BENCH_HALF_S:-30}
  NGINX_WARMUP_S=${BENCH_NGINX_WARMUP_S:-3}
fi
HALF_WARMUP_S=${BENCH_HALF_WARMUP_S:-3}     # constant-rate requests sent but not counted
# before each measured phase, wait until other processes leave the machine nearly idle
QUIET_WAIT_S=${BENCH_QUIET_WAIT_S:-$([ "$MODE" = quick ] && echo 60 || echo 600)}
QUIET_PCT=${BENCH_QUIET_PCT:-30}            # % of one core, all processes together
PORT=${BENCH_PORT:-18580}                   # the gateway (with --nodes above 1: the nginx load balancer)
NODE_PORT_BASE=${BENCH_NODE_PORT_BASE:-18590} # with --nodes above 1: node i listens on this + i - 1
PG_PORT=${BENCH_PG_PORT:-18583}             # --store postgres: the PostgreSQL server
PG_POOL=${BENCH_PG_POOL:-8}                 # --store postgres: each node's store.pool_size
PG_SHARED_BUFFERS=${BENCH_PG_SHARED_BUFFERS:-256MB}
NGINX_PORT=${BENCH_NGINX_PORT:-18581}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
WRK_CONNECTIONS=${BENCH_WRK_CONNECTIONS:-64}
RATE_CONNECTIONS=${BENCH_RATE_CONNECTIONS:-64}
# sizes the request file: the most requests/s the gateway could possibly take (keys must not repeat)
RECORD_RATE=${BENCH_RECORD_RATE:-20000}
# a measured phase during which other processes used more than CONTENTION_PCT % of a core is
# measured again, up to ATTEMPTS times in all (the last attempt counts)
ATTEMPTS=${BENCH_ATTEMPTS:-2}
CONTENTION_PCT=${BENCH_CONTENTION_PCT:-20}
. "$ROOT/bin/java-options.sh"
GATEWAY_JAVA_OPTS=${BENCH_JAVA_OPTS:-$SWITCHBOARD_DEFAULT_JAVA_OPTS}  # what ./switchboard runs it with
CLIENT_JAVA_OPTS=${BENCH_CLIENT_JAVA_OPTS:--XX:+UseSerialGC -Xmx1g}
# the load generators stand for the senders out there: run them at a higher priority so that a
# busy gateway cannot hold them up (their lateness would show up as the gateway's latency)
LOADGEN_NICE=${BENCH_LOADGEN_NICE:--10}
SOURCE=genesys-dispositions
HOOK_PATH=/hooks/$SOURCE
# ---- the delivery phases
RECEIVER_PORT=${BENCH_RECEIVER_PORT:-18582} # the fake destination
DEST=receiver                               # its name in the gateway's config
E2E_CONCURRENCY=${BENCH_E2E_CONCURRENCY:-64} # the destination's `concurrency`
if [ "$MODE" = quick ]; then
  BACKLOG=${BENCH_BACKLOG:-50000}
  SETTLE_TIMEOUT_S=${BENCH_SETTLE_TIMEOUT_S:-120}
else
  BACKLOG=${BENCH_BACKLOG:-1000000}
  SETTLE_TIMEOUT_S=${BENCH_SETTLE_TIMEOUT_S:-300}
fi
# events still undelivered after a phase: wait this long (at most) for them before the next one
DRAIN_TIMEOUT_S=${BENCH_DRAIN_TIMEOUT_S:-900}     # the backlog's drain
BACKLOG_INGEST_TIMEOUT_S=${BENCH_BACKLOG_INGEST_TIMEOUT_S:-900}
STALL_S=${BENCH_STALL_S:-180}   # give up waiting for deliveries after this long without one
RECEIVER_JAVA_OPTS=${BENCH_RECEIVER_JAVA_OPTS:--XX:+UseSerialGC -Xmx512m}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- clean up on exit -----------------------------------------------------------------------
GATEWAY_PID=""    # the first node
GATEWAY_PIDS=""   # every node
NGINX_PID=""
LB_PID=""         # --nodes above 1: nginx in front of the nodes
PG_DATA=""        # --store postgres: set once the server may be running
RECEIVER_PID=""
WAITER_PID=""
OTLP_PID=""       # --tracing: the span sink
OTLP_PORT=${BENCH_OTLP_PORT:-18584}
cleanup() {
  local rc=$?
  if [ -n "$WAITER_PID" ] && kill -0 "$WAITER_PID" 2>/dev/null; then
    kill -TERM "$WAITER_PID" 2>/dev/null || true
    wait "$WAITER_PID" 2>/dev/null || true
  fi
  local p
  for p in $GATEWAY_PIDS; do
    if kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  if [ -n "$LB_PID" ] && kill -0 "$LB_PID" 2>/dev/null; then
    kill -TERM "$LB_PID" 2>/dev/null || true
    wait "$LB_PID" 2>/dev/null || true
  fi
  if [ -n "$RECEIVER_PID" ] && kill -0 "$RECEIVER_PID" 2>/dev/null; then
    kill -KILL "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
  fi
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
  if [ -n "$OTLP_PID" ] && kill -0 "$OTLP_PID" 2>/dev/null; then
    kill -TERM "$OTLP_PID" 2>/dev/null || true
    wait "$OTLP_PID" 2>/dev/null || true
  fi
  [ -z "$PG_DATA" ] || pg_stop
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools ----------------------------------------------------------------------------------
need_pkgs=()
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
command -v nginx >/dev/null 2>&1 || need_pkgs+=(nginx)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
# PostgreSQL: Debian's server package (initdb, pg_ctl, postgres) and client (psql)
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ "$STORE" = postgres ]; then
  { [ -n "$(pg_bindir)" ] && [ -x "$(pg_bindir)/initdb" ]; } || need_pkgs+=(postgresql)
  command -v psql >/dev/null 2>&1 || need_pkgs+=(postgresql-client)
  command -v setpriv >/dev/null 2>&1 || need_pkgs+=(util-linux)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need_pkgs[*]}: install them (apt-get install ${need_pkgs[*]})"
  log "installing ${need_pkgs[*]} from apt"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi
. "$ROOT/bin/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

mkdir -p "$OUT_ROOT" "$OUT"
# one run at a time: a second one would delete the first one's files
exec 9>"$OUT_ROOT/.run.lock"
if ! flock -n 9; then
  log "another bench/run.sh is running; waiting up to ${QUIET_WAIT_S}s for it to finish"
  flock -w "$QUIET_WAIT_S" 9 || die "another bench/run.sh is still running"
fi
rm -f "$OUT"/*.json "$OUT"/*.prom "$OUT"/*.txt "$OUT"/*.time "$OUT"/*.log "$OUT"/report.md \
  "$OUT"/bench.db "$OUT"/bench.db-wal "$OUT"/bench.db-shm \
  "$OUT"/bench-e2e.db "$OUT"/bench-e2e.db-wal "$OUT"/bench-e2e.db-shm "$OUT"/*.yaml "$OUT"/admin-header
rm -rf "$OUT/pg"
COMMANDS="$OUT/commands.txt"
: >"$COMMANDS"
# writes a command line (shell-quoted, paths relative to the repository) to commands.txt
note_cmd() {
  local line
  line=$(printf '%q ' "$@")
  line=${line//$ROOT\//}
  printf '%s\n' "${line% }" >>"$COMMANDS"
}
# runs a command in the foreground after noting it
logged() { note_cmd "$@"; "$@"; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
# owns_port PID PORT: the process PID is the one listening on PORT
owns_port() { ss -Hltnp "sport = :$2" | grep -q "pid=$1,"; }
# wait_port PORT NAME: someone else may be using the port for a while; wait (bounded), then give up
wait_port() {
  local waited=0
  while ! port_free "$1"; do
    [ "$waited" = 0 ] && log "port $1 is in use; waiting up to ${QUIET_WAIT_S}s for it (or set $2)"
    [ "$waited" -ge "$QUIET_WAIT_S" ] && die "port $1 is still in use (set $2)"
    sleep 2; waited=$((waited + 2))
  done
}

# ---- build ----------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  log "building (./mvnw -q -B -DskipTests -Dswitchboard.tarball.skip=true package)"
  (cd "$ROOT" && logged ./mvnw -q -B -DskipTests -Dswitchboard.tarball.skip=true package) >"$OUT/build.log" 2>&1 \
    || { tail -n 40 "$OUT/build.log" >&2; die "the build failed (see bench/out/build.log)"; }
fi
[ -f "$ROOT/target/switchboard.jar" ] || die "target/switchboard.jar is missing"
# run a copy, so that a rebuild during the run cannot change the jar under the JVM
cp -p "$ROOT/target/switchboard.jar" "$OUT/switchboard.jar"
JAR_ID="$(date -u -r "$OUT/switchboard.jar" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$OUT/switchboard.jar" | cut -c1-12)"

# the constant-rate client, compiled once (the source launcher would compile it on every start)
mkdir -p "$OUT/classes"
logged "$JAVA_HOME/bin/javac" -d "$OUT/classes" "$BENCH/RateClient.java" "$BENCH/Receiver.java"

# ---- the signed requests --------------------------------------------------------------------
HALF_RECORDS=$(( (RECORD_RATE / 2 + 1) * (HALF_S + HALF_WARMUP_S + 1) ))
TOTAL_RECORDS=$(( RECORD_RATE * (WARMUP_S + ATTEMPTS * MEASURE_S) + ATTEMPTS * HALF_RECORDS + 100000 ))
# the delivery phases run on a fresh store, so they start at record 0 again (their keys are new
# to that store): warm-up, half rate, full speed, then the backlog
E2E_RECORDS=$(( 1 + RECORD_RATE * (WARMUP_S + MEASURE_S) + HALF_RECORDS + BACKLOG + 256 ))
if [ "$DELIVERY" = 1 ] && [ $(( E2E_RECORDS + 100000 )) -gt "$TOTAL_RECORDS" ]; then
  TOTAL_RECORDS=$(( E2E_RECORDS + 100000 ))
fi
REQUESTS="$OUT_ROOT/requests.bin"
META="$OUT_ROOT/requests.meta"
cached_secret=""; cached_count=0; cached_size=0; cached_hash=""
if [ -f "$META" ] && [ -f "$REQUESTS" ]; then
  read -r cached_secret cached_count cached_size cached_hash <"$META" || true
fi
BENCH_SECRET=${BENCH_SECRET:-${cached_secret:-$(python3 -c 'import secrets; print(secrets.token_hex(24))')}}
export BENCH_SECRET
gen_hash=$(sha256sum "$BENCH/gen_requests.py" | cut -c1-16)
if [ "$cached_secret" = "$BENCH_SECRET" ] && [ "$cached_count" -ge "$TOTAL_RECORDS" ] \
  && [ "$cached_hash" = "$gen_hash" ] \
  && [ "$(stat -c %s "$REQUESTS")" = "$(( cached_count * cached_size ))" ]; then
  RECORD_SIZE=$cached_size; TOTAL_RECORDS=$cached_count
  log "reusing $TOTAL_RECORDS signed requests in bench/out/requests.bin"
else
  log "signing $TOTAL_RECORDS requests into bench/out/requests.bin"
  RECORD_SIZE=$(python3 "$BENCH/gen_requests.py" "$REQUESTS" "$TOTAL_RECORDS" "$BENCH_SECRET" "$HOOK_PATH")
  echo "$BENCH_SECRET $TOTAL_RECORDS $RECORD_SIZE $gen_hash" >"$META"
fi
BODY_SIZE=$(head -c "$RECORD_SIZE" "$REQUESTS" | sed -n 's/^Content-Length: \([0-9]*\).*/\1/p')

# ---- helpers --------------------------------------------------------------------------------
NICE=(nice -n "$LOADGEN_NICE")
if [ "$(nice -n "$LOADGEN_NICE" nice 2>/dev/null)" != "$(( $(nice) + LOADGEN_NICE ))" ]; then
  log "cannot run the load generators at nice $LOADGEN_NICE (not root?): running them at normal priority"
  NICE=()
  LOADGEN_NICE=0
fi
# one JSON line about a process (CPU ticks, RSS) and the whole machine (/proc/stat)
sample() { python3 "$BENCH/benchlib.py" sample "$@"; }
# node_port I: the port of node I (1-based); with one node, the gateway's port
node_port() { if [ "$NODES" = 1 ]; then echo "$PORT"; else echo $(( NODE_PORT_BASE + $1 - 1 )); fi; }
NODE_PORTS=$(for i in $(seq "$NODES"); do node_port "$i"; done | paste -sd, -)
# scrape FILE: the gateway's /metrics; with several nodes each node's (FILE.nI) and their sum in FILE
scrape() {
  if [ "$NODES" = 1 ]; then
    curl -fsS --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$1" || die "could not read the gateway's /metrics"
    return
  fi
  local i files=()
  for i in $(seq "$NODES"); do
    curl -fsS --max-time 10 "http://127.0.0.1:$(node_port "$i")/metrics" >"$1.n$i" \
      || die "could not read node $i's /metrics"
    files+=("$1.n$i")
  done
  python3 "$BENCH/benchlib.py" prom-merge "${files[@]}" >"$1"
}
# store_yaml DATABASE SQLITE_FILE: the config's store line (a fresh SQLite file, or a PostgreSQL database)
store_yaml() {
  if [ "$STORE" = postgres ]; then
    printf 'store: { type: postgres, url: "jdbc:postgresql://127.0.0.1:%s/%s", user: postgres, password: "${SWITCHBOARD_PG_PASSWORD}", pool_size: %s }\n' \
      "$PG_PORT" "$1" "$PG_POOL"
  else
    printf 'store: { path: %s }\n' "$2"
  fi
}

# telemetry_yaml: the config's telemetry section with --tracing (spans to the local sink), else none
telemetry_yaml() {
  [ "$TRACING" = 1 ] || return 0
  printf 'telemetry:\n  otlp_endpoint: "http://127.0.0.1:%s"\n  export_interval: 1s\n' "$OTLP_PORT"
}

# run_wrk NAME PORT START_INDEX DURATION_S: one wrk run over the request file
run_wrk() {
  local name=$1 port=$2 start=$3 secs=$4
  logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/wrk-$name.time" \
    wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${secs}s" --latency --timeout 10s \
    -s "$BENCH/wrk-requests.lua" "http://127.0.0.1:$port$HOOK_PATH" \
    -- "$REQUESTS" "$RECORD_SIZE" "$start" "$TOTAL_RECORDS" "$WRK_THREADS" "$OUT/wrk-$name.json" \
    >"$OUT/wrk-$name.txt" 2>&1 || { cat "$OUT/wrk-$name.txt" >&2; die "wrk ($name) failed"; }
  grep -v '^BENCH_JSON' "$OUT/wrk-$name.txt" | sed 's/^/    /' >&2
}
# quiet NAME: wait (bounded) for the machine to be nearly idle; notes how it went
quiet() { python3 "$BENCH/benchlib.py" quiet "$1" "$QUIET_WAIT_S" "$QUIET_PCT" >"$OUT/quiet-$1.json"; }
# contended NAME SAMPLE_BEFORE SAMPLE_AFTER TIME_FILE ATTEMPT: true when the phase should be
# measured again because other processes were busy during it (and attempts are left)
contended() {
  local o
  o=$(python3 "$BENCH/benchlib.py" others "$2" "$3" "$4")
  [ "$o" -gt "$CONTENTION_PCT" ] && [ "$5" -lt "$ATTEMPTS" ] || return 1
  log "  other processes used $o % of a core during the $1 phase: measuring it again"
  echo "$1=attempt $5 of $ATTEMPTS had $o % of a core used by other processes" >>"$OUT/attempts.txt"
}
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$1" "$2"; }

# ---- PostgreSQL (--store postgres) ----------------------------------------------------------
# A server of our own: a fresh cluster in bench/out/<store>-<nodes>/pg/data, 127.0.0.1:$PG_PORT
# only (no Unix socket), password login (scram-sha-256) with a password generated for this run
# and passed through the environment only (PGPASSWORD for psql, SWITCHBOARD_PG_PASSWORD for the
# gateway's config), durable settings. As root, PostgreSQL runs as the `postgres` user (or
# `nobody`) through setpriv, as src/test/.../EmbeddedPostgres.java does; otherwise as the caller.
PG_BIN=""
PG_AS=()
PG_PID=""
if [ "$STORE" = postgres ]; then
  PG_BIN=$(pg_bindir)
  PG_OWNER=""
  if [ "$(id -u)" = 0 ]; then
    PG_OWNER=postgres
    id "$PG_OWNER" >/dev/null 2>&1 || PG_OWNER=nobody
    PG_AS=(setpriv --reuid="$(id -u "$PG_OWNER")" --regid="$(id -g "$PG_OWNER")" --clear-groups --)
  fi
  export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGCONNECT_TIMEOUT=10
  PGPASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  SWITCHBOARD_PG_PASSWORD=$PGPASSWORD
  export PGPASSWORD SWITCHBOARD_PG_PASSWORD
  # the nodes' pools (pool_size + 1 spare each) and a margin for psql and maintenance
  PG_MAX_CONNECTIONS=$(( NODES * (PG_POOL + 1) + 20 ))
fi
# psql_q DB SQL: one query, unaligned, tab-separated, no headers; SQL goes through stdin
psql_q() { printf '%s\n' "$2" | psql -X -q -v ON_ERROR_STOP=1 -A -t -F $'\t' -d "$1" -f -; }
pg_start() {
  local dir="$OUT/pg"
  wait_port "$PG_PORT" BENCH_PG_PORT
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ -z "$PG_OWNER" ] || chown "$PG_OWNER" "$dir"
  PG_DATA="$dir/data"
  # the superuser's password, for initdb only: a file only the server's user can read, removed after
  (umask 077; printf '%s\n' "$PGPASSWORD" >"$dir/pwfile")
  [ -z "$PG_OWNER" ] || chown "$PG_OWNER" "$dir/pwfile"
  note_cmd "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$dir/pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$dir/pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$OUT/pg-initdb.log" 2>&1 \
    || { rm -f "$dir/pwfile"; cat "$OUT/pg-initdb.log" >&2; die "initdb failed (bench/out/$STORE-$NODES/pg-initdb.log)"; }
  rm -f "$dir/pwfile"
  cat >>"$PG_DATA/postgresql.conf" <<PGCONF
# written by bench/run.sh: loopback only, durable commits
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = $PG_MAX_CONNECTIONS
shared_buffers = $PG_SHARED_BUFFERS
fsync = on
synchronous_commit = on
full_page_writes = on
wal_level = replica
max_wal_size = 2GB
PGCONF
  # BENCH_PG_STATEMENTS=1: record every statement's cost (pg-statements-*.txt after each store's run)
  [ "${BENCH_PG_STATEMENTS:-0}" = 0 ] \
    || echo "shared_preload_libraries = 'pg_stat_statements'" >>"$PG_DATA/postgresql.conf"
  # BENCH_PG_CONF: more lines for postgresql.conf (e.g. auto_explain settings, for a profile)
  [ -z "${BENCH_PG_CONF:-}" ] || printf '%s\n' "$BENCH_PG_CONF" >>"$PG_DATA/postgresql.conf"
  pg_ctl_start
  psql_q postgres "CREATE DATABASE bench; CREATE DATABASE bench_e2e;" >/dev/null \
    || die "could not create the databases"
  if [ "${BENCH_PG_STATEMENTS:-0}" != 0 ]; then
    psql_q bench "CREATE EXTENSION pg_stat_statements;" >/dev/null
    psql_q bench_e2e "CREATE EXTENSION pg_stat_statements;" >/dev/null
  fi
}
pg_ctl_start() {
  note_cmd "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$OUT/pg/server.log" -w -t 60 start
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$OUT/pg/server.log" -w -t 60 start >>"$OUT/pg-ctl.log" 2>&1 \
    || { tail -n 30 "$OUT/pg/server.log" >&2; die "PostgreSQL did not start (bench/out/$STORE-$NODES/pg/server.log)"; }
  PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
  owns_port "$PG_PID" "$PG_PORT" || die "our PostgreSQL is not the one on port $PG_PORT"
}
# pg_statements NAME: with BENCH_PG_STATEMENTS=1, the 25 costliest statements so far (then reset)
pg_statements() {
  [ "$STORE" = postgres ] && [ "${BENCH_PG_STATEMENTS:-0}" != 0 ] || return 0
  psql_q bench "SELECT calls, round(total_exec_time) AS total_ms,
      round((total_exec_time / greatest(calls, 1))::numeric, 3) AS mean_ms, rows,
      left(regexp_replace(query, '\s+', ' ', 'g'), 160)
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25;" >"$OUT/pg-statements-$1.txt" || true
  psql_q bench "SELECT pg_stat_statements_reset();" >/dev/null || true
}
# pg_stop [MODE]: fast by default (immediate when that fails); bounded
pg_stop() {
  [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 60 stop >>"$OUT/pg-ctl.log" 2>&1 \
    || "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >>"$OUT/pg-ctl.log" 2>&1 || true
}
# the server's processes (the postmaster and its children: backends, writers), for the CPU samples
pg_pids() { [ -z "$PG_PID" ] || echo "$PG_PID $(pgrep -P "$PG_PID" | tr '\n' ' ')"; }
# the nginx load balancer's processes
lb_pids() { [ -z "$LB_PID" ] || echo "$LB_PID $(pgrep -P "$LB_PID" | tr '\n' ' ')"; }
# everything that serves the requests: the gateways, then PostgreSQL and the load balancer
server_pids() { echo "$GATEWAY_PIDS $(pg_pids) $(lb_pids)"; }

# ---- phase 1: nginx, the ceiling ------------------------------------------------------------
log "phase 1: nginx on 127.0.0.1:$NGINX_PORT answering 202 (warm-up ${NGINX_WARMUP_S}s, measure ${MEASURE_S}s)"
NGX="$OUT/nginx"
rm -rf "$NGX"; mkdir -p "$NGX/tmp"
cat >"$NGX/nginx.conf" <<EOF
# written by bench/run.sh: answers 202 to anything, as fast as nginx can
worker_processes auto;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    client_body_buffer_size 64k;
    client_max_body_size 1m;
    default_type application/json;
    location / { return 202 '{"status":"accepted"}'; }
  }
}
EOF
wait_port "$NGINX_PORT" BENCH_NGINX_PORT
note_cmd nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;'
nginx -p "$NGX" -e "$NGX/error.log" -c "$NGX/nginx.conf" -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 100); do
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$OUT/nginx.log" "$NGX/error.log" >&2; die "nginx did not start"; }
  owns_port "$NGINX_PID" "$NGINX_PORT" \
    && curl -fsS -o /dev/null -X POST "http://127.0.0.1:$NGINX_PORT$HOOK_PATH" -d '{}' 2>/dev/null && break
  sleep 0.1
done
owns_port "$NGINX_PID" "$NGINX_PORT" || die "our nginx is not the one on port $NGINX_PORT"
NGINX_PIDS="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
for attempt in $(seq "$ATTEMPTS"); do
  quiet 1-nginx
  run_wrk nginx-warmup "$NGINX_PORT" 0 "$NGINX_WARMUP_S"
  sample nginx-before $NGINX_PIDS >"$OUT/sample-nginx-before.json"
  run_wrk nginx "$NGINX_PORT" 0 "$MEASURE_S"
  sample nginx-after $NGINX_PIDS >"$OUT/sample-nginx-after.json"
  contended nginx "$OUT/sample-nginx-before.json" "$OUT/sample-nginx-after.json" "$OUT/wrk-nginx.time" "$attempt" || break
done
kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""

# ---- phase 2: the gateway at full speed -----------------------------------------------------
CONFIG="$OUT/bench.yaml"
cat >"$CONFIG" <<EOF
# written by bench/run.sh
server:
  host: 127.0.0.1
  port: $PORT
  # the ingest phases' deliveries are never worked off (their destination is a closed port, so
  # attempts fail and the circuit breaker leaves it alone); keep the backlog guard out of the way
  backlog_high_water: 1000000000
$(store_yaml bench "$OUT/bench.db")
$(telemetry_yaml)
sources:
  $SOURCE:
    verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["\${BENCH_SECRET}"] }
    idempotency: { key: "interactionId & '|' & timestamp", ttl: 48h }
    event_time: timestamp
    partition_key: interactionId
    redact: { remove: [recordingUrls, mediaUrls], mask: [contact.phoneNumber] }
routes:
  to-crm: { from: $SOURCE, to: crm }
destinations:
  crm: { type: http, url: "http://127.0.0.1:9/unused" }
EOF
if [ "$TRACING" = 1 ]; then
  wait_port "$OTLP_PORT" BENCH_OTLP_PORT
  python3 "$BENCH/benchlib.py" otlp-sink "$OTLP_PORT" "$OUT/otlp-sink.json" &
  OTLP_PID=$!
  for _ in $(seq 1 50); do
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$OTLP_PORT/stats" 2>/dev/null && break
    sleep 0.1
  done
  log "tracing on: spans go to the OTLP sink on 127.0.0.1:$OTLP_PORT (answers 200, counts requests and bytes)"
fi
# the disk's own fsync latency, the floor under a durable ack
python3 "$BENCH/benchlib.py" fsync-probe "$OUT" 1000 >"$OUT/fsync-probe.json"
if [ "$STORE" = postgres ]; then
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $NF}') on 127.0.0.1:$PG_PORT, a fresh cluster in bench/out/$STORE-$NODES/pg (databases bench, bench_e2e)"
  pg_start
  log "phase 2: $NODES gateway node(s) on 127.0.0.1 port(s) $NODE_PORTS$([ "$NODES" = 1 ] || echo " behind nginx on $PORT"), PostgreSQL database bench"
else
  log "phase 2: the gateway on 127.0.0.1:$PORT, fresh store bench/out/$STORE-$NODES/bench.db"
fi
# start_gateway CONFIG LOG GC_LOG [VAR=value...]: starts the gateway (GATEWAY_PID), waits (bounded)
# until it is ready and checks that the port is its own. With --nodes N: N gateways (GATEWAY_PIDS),
# node I on node_port I with CONFIG's port changed (CONFIG-nI.yaml; LOG and GC_LOG get -nI for
# I > 1), and the nginx load balancer on $PORT in front of them (started once)
start_gateway() {
  local config=$1 glog=$2 gclog=$3
  shift 3
  local i cfg log gcl nport pid
  GATEWAY_PIDS=""
  for i in $(seq "$NODES"); do
    nport=$(node_port "$i")
    cfg=$config; log=$glog; gcl=$gclog
    if [ "$NODES" != 1 ]; then
      cfg="${config%.yaml}-n$i.yaml"
      sed "s/^  port: $PORT\$/  port: $nport/" "$config" >"$cfg"
      grep -q "^  port: $nport\$" "$cfg" || die "could not set node $i's port in $cfg"
      if [ "$i" -gt 1 ]; then log="${glog%.log}-n$i.log"; gcl="${gclog%.log}-n$i.log"; fi
    fi
    wait_port "$nport" "$([ "$NODES" = 1 ] && echo BENCH_PORT || echo BENCH_NODE_PORT_BASE)"
    # the GC log (pauses only, to a file) lets the report tell GC pauses from other stalls
    local gc_opt="-Xlog:gc:file=$gcl:timemillis"
    # shellcheck disable=SC2086
    note_cmd "$JAVA" $GATEWAY_JAVA_OPTS "$gc_opt" -jar "$OUT/switchboard.jar" serve --config "$cfg"
    # shellcheck disable=SC2086
    env "$@" "$JAVA" $GATEWAY_JAVA_OPTS "$gc_opt" -jar "$OUT/switchboard.jar" serve --config "$cfg" >"$log" 2>&1 &
    pid=$!
    GATEWAY_PIDS="$GATEWAY_PIDS $pid"
    if [ "$i" = 1 ]; then GATEWAY_PID=$pid; fi
  done
  GATEWAY_PIDS=${GATEWAY_PIDS# }
  i=0
  for pid in $GATEWAY_PIDS; do
    i=$((i + 1))
    nport=$(node_port "$i")
    log=$glog; [ "$i" -gt 1 ] && log="${glog%.log}-n$i.log"
    local ready=0
    for _ in $(seq 900); do
      kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; die "gateway node $i exited (see $log)"; }
      if owns_port "$pid" "$nport" \
        && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$nport/readyz" 2>/dev/null; then ready=1; break; fi
      sleep 0.1
    done
    [ "$ready" = 1 ] || { tail -n 40 "$log" >&2; die "gateway node $i is not ready after 90s"; }
    # the port cannot change hands while our process holds it; check once more that it is ours
    owns_port "$pid" "$nport" || die "our gateway is not the one on port $nport"
  done
  [ "$NODES" = 1 ] || [ -n "$LB_PID" ] || start_lb
}
# stop_gateways SIGNAL: sends SIGNAL to every node and waits for them (SIGKILL after 60 s); sets
# STOPPED_BY_SIGNAL=1 when every node stopped by itself
stop_gateways() {
  local pid
  STOPPED_BY_SIGNAL=1
  for pid in $GATEWAY_PIDS; do kill "-$1" "$pid" 2>/dev/null || true; done
  for pid in $GATEWAY_PIDS; do
    local stopped=0
    for _ in $(seq 600); do
      kill -0 "$pid" 2>/dev/null || { stopped=1; break; }
      sleep 0.1
    done
    [ "$stopped" = 1 ] || { log "  gateway $pid did not stop within 60 s of SIG$1: SIGKILL"; STOPPED_BY_SIGNAL=0; kill -KILL "$pid" 2>/dev/null || true; }
    wait "$pid" 2>/dev/null || true
  done
  GATEWAY_PID=""; GATEWAY_PIDS=""
}
# start_lb: nginx on $PORT, round robin over the nodes with pooled upstream connections; a POST
# that failed on one node is not sent to another (nginx's default for non-idempotent requests)
start_lb() {
  local lb="$OUT/lb" i
  rm -rf "$lb"; mkdir -p "$lb/tmp"
  {
    echo "# written by bench/run.sh: round robin over the $NODES gateway nodes"
    echo "worker_processes 1;"
    echo "pid $lb/nginx.pid;"
    echo "error_log $lb/error.log warn;"
    echo "events { worker_connections 4096; }"
    echo "http {"
    echo "  access_log off;"
    for d in body proxy fastcgi uwsgi scgi; do echo "  ${d/body/client_body}_temp_path $lb/tmp/$d;"; done
    echo "  keepalive_requests 100000000;"
    echo "  keepalive_timeout 120s;"
    echo "  upstream switchboard {"
    for i in $(seq "$NODES"); do echo "    server 127.0.0.1:$(node_port "$i") max_fails=0;"; done
    echo "    keepalive 128;"
    echo "    keepalive_requests 100000000;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$PORT;"
    echo "    client_body_buffer_size 64k;"
    echo "    client_max_body_size 1m;"
    echo "    location / {"
    echo "      proxy_pass http://switchboard;"
    echo "      proxy_http_version 1.1;"
    echo "      proxy_set_header Connection \"\";"
    echo "      proxy_set_header Host \$host;"
    echo "      proxy_read_timeout 60s;"
    echo "    }"
    echo "  }"
    echo "}"
  } >"$lb/nginx.conf"
  wait_port "$PORT" BENCH_PORT
  note_cmd nginx -p "$lb" -e "$lb/error.log" -c "$lb/nginx.conf" -g 'daemon off;'
  nginx -p "$lb" -e "$lb/error.log" -c "$lb/nginx.conf" -g 'daemon off;' >"$OUT/lb.log" 2>&1 &
  LB_PID=$!
  for _ in $(seq 100); do
    kill -0 "$LB_PID" 2>/dev/null || { cat "$OUT/lb.log" "$lb/error.log" >&2; die "the nginx load balancer did not start"; }
    owns_port "$LB_PID" "$PORT" && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/readyz" 2>/dev/null && break
    sleep 0.1
  done
  owns_port "$LB_PID" "$PORT" || die "our load balancer is not the one on port $PORT"
}
# first_request OUT_FILE: one request by hand (record 0): the signature and the config must give a 202
first_request() {
  local first
  first=$(curl -sS -o "$1" -w '%{http_code}' --max-time 10 -X POST \
    --data-binary @<(head -c "$RECORD_SIZE" "$REQUESTS" | tail -c "$BODY_SIZE") \
    -H 'Content-Type: application/json' \
    -H "X-Genesys-Signature: $(head -c "$RECORD_SIZE" "$REQUESTS" | sed -n 's/^X-Genesys-Signature: \([0-9a-f]*\).*/\1/p')" \
    "http://127.0.0.1:$PORT$HOOK_PATH")
  [ "$first" = 202 ] || { cat "$1" >&2; echo >&2; die "the first signed request got $first, not 202"; }
}
start_gateway "$CONFIG" "$OUT/gateway.log" "$OUT/gc.log"
sample gateway-started $(server_pids) >"$OUT/sample-gateway-started.json"
first_request "$OUT/first-response.txt"
# that request used record 0
START=1

log "  warm-up ${WARMUP_S}s (discarded)"
run_wrk gateway-warmup "$PORT" "$START" "$WARMUP_S"
cp "$OUT/wrk-gateway-warmup.json" "$OUT/acks-warmup.json"
START=$(json_field "$OUT/wrk-gateway-warmup.json" '["next_index"]')
for attempt in $(seq "$ATTEMPTS"); do
  quiet 2-max-rate
  scrape "$OUT/metrics-max-before.prom"
  sample gateway-max-before $(server_pids) >"$OUT/sample-gateway-max-before.json"
  log "  measuring ${MEASURE_S}s at full speed"
  run_wrk gateway-max "$PORT" "$START" "$MEASURE_S"
  sample gateway-max-after $(server_pids) >"$OUT/sample-gateway-max-after.json"
  scrape "$OUT/metrics-max-after.prom"
  cp "$OUT/wrk-gateway-max.json" "$OUT/acks-max-$attempt.json"
  START=$(json_field "$OUT/wrk-gateway-max.json" '["next_index"]')
  # another attempt only while the file still has fresh requests for it and the half-rate phase
  [ $(( START + RECORD_RATE * MEASURE_S + ATTEMPTS * HALF_RECORDS )) -le "$TOTAL_RECORDS" ] || break
  contended max-rate "$OUT/sample-gateway-max-before.json" "$OUT/sample-gateway-max-after.json" \
    "$OUT/wrk-gateway-max.time" "$attempt" || break
done
MAX_RPS=$(json_field "$OUT/wrk-gateway-max.json" '["rps"]')

# ---- phase 3: the gateway at half that rate, constant rate ----------------------------------
HALF_RPS=$(python3 -c "print(max(1, int(float('$MAX_RPS') / 2)))")
log "phase 3: constant $HALF_RPS requests/s (half of $MAX_RPS) for ${HALF_S}s after ${HALF_WARMUP_S}s not counted"
for attempt in $(seq "$ATTEMPTS"); do
  quiet 3-half-rate
  scrape "$OUT/metrics-half-before.prom"
  sample gateway-half-before $(server_pids) >"$OUT/sample-gateway-half-before.json"
  # shellcheck disable=SC2086
  logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-half.time" \
    "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
    "$START" "$TOTAL_RECORDS" "$HALF_RPS" "$HALF_S" "$HALF_WARMUP_S" "$RATE_CONNECTIONS" \
    "$OUT/rate-half.json" >"$OUT/rate-half.txt" 2>&1 \
    || { cat "$OUT/rate-half.txt" >&2; die "the constant-rate client failed"; }
  sample gateway-half-after $(server_pids) >"$OUT/sample-gateway-half-after.json"
  scrape "$OUT/metrics-half-after.prom"
  cp "$OUT/rate-half.json" "$OUT/acks-half-$attempt.json"
  START=$(json_field "$OUT/rate-half.json" '["next_index"]')
  [ $(( START + HALF_RPS * (HALF_S + HALF_WARMUP_S + 1) )) -le "$TOTAL_RECORDS" ] || break
  contended half-rate "$OUT/sample-gateway-half-before.json" "$OUT/sample-gateway-half-after.json" \
    "$OUT/rate-half.time" "$attempt" || break
done

# ---- durability: SIGKILL, then count what is in the file ------------------------------------
sleep 1
scrape "$OUT/metrics-final.prom"
sample gateway-final $(server_pids) >"$OUT/sample-gateway-final.json"
if [ "$STORE" = postgres ]; then
  # every node dies at once, then the database server itself crashes (immediate stop: no
  # checkpoint, recovery from the WAL at the next start), then the events are counted
  log "SIGKILL to the gateway node(s), immediate stop of PostgreSQL and a restart, then counting the events in database bench"
  pg_statements ingest
  stop_gateways KILL
  note_cmd "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 60 stop
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 60 stop >>"$OUT/pg-ctl.log" 2>&1 \
    || die "could not stop PostgreSQL (immediate)"
  pg_ctl_start
  python3 "$BENCH/benchlib.py" durability pg:bench >"$OUT/durability.json"
else
  log "SIGKILL to the gateway, then counting the events in bench/out/$STORE-$NODES/bench.db"
  stop_gateways KILL
  python3 "$BENCH/benchlib.py" durability "$OUT/bench.db" >"$OUT/durability.json"
fi

# ---- phases 4-7: end-to-end delivery, on a fresh store ---------------------------------------
# The gateway starts again on another fresh SQLite file with one route from the same source to an
# http destination: the fake destination, Receiver.java, which answers 200 at once and records
# when each delivery arrived and which event it carried. Every event is delivered, so after each
# phase the script waits (bounded) until the receiver has every accepted event before the next.
ADMIN_OK=0
if [ "$DELIVERY" = 1 ]; then
  E2E_CONFIG="$OUT/bench-e2e.yaml"
  cat >"$E2E_CONFIG" <<YAML
# written by bench/run.sh: the delivery phases
server:
  host: 127.0.0.1
  port: $PORT
  # the backlog phase leaves BENCH_BACKLOG deliveries pending at once; keep the guard out of the way
  backlog_high_water: 1000000000
$(store_yaml bench_e2e "$OUT/bench-e2e.db")
$(telemetry_yaml)
admin: { token: "\${SWITCHBOARD_ADMIN_TOKEN}" }
sources:
  $SOURCE:
    verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["\${BENCH_SECRET}"] }
    idempotency: { key: "interactionId & '|' & timestamp", ttl: 48h }
    event_time: timestamp
    partition_key: interactionId
    redact: { remove: [recordingUrls, mediaUrls], mask: [contact.phoneNumber] }
routes:
  to-receiver: { from: $SOURCE, to: $DEST }
destinations:
  $DEST:
    type: http
    method: POST
    url: "http://127.0.0.1:$RECEIVER_PORT/in"
    timeout: 10s
    concurrency: $E2E_CONCURRENCY
    retry: { initial: 1s, max_delay: 30s }
YAML
  ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
  # the admin token goes to curl through a file, not its command line
  ADMIN_HEADER="$OUT/admin-header"
  (umask 077; printf 'Authorization: Bearer %s\n' "$ADMIN_TOKEN" >"$ADMIN_HEADER")
  PHASES="$OUT/e2e-phases.txt"
  : >"$PHASES"
  # phase_note KEY=VALUE...: what the analysis needs to know about the phases (record ranges, times)
  phase_note() { printf '%s\n' "$@" >>"$PHASES"; }
  now_us() { date +%s%6N; }
  rstats() { curl -fsS --max-time 10 "http://127.0.0.1:$RECEIVER_PORT/stats" >"$1" || die "could not read the receiver's /stats"; }
  # admin_call ACTION: POST /api/v1/destinations/$DEST/ACTION; prints the HTTP status (000: none)
  # (with several nodes: on every node, as each node pauses only its own dispatcher; prints the
  # first status that is not 204, else 204)
  admin_call() {
    local i code worst=204
    : >"$OUT/admin-$1.txt"
    for i in $(seq "$NODES"); do
      code=$(curl -sS -o "$OUT/admin-$1-n$i.txt" -w '%{http_code}' --max-time 35 -X POST -H @"$ADMIN_HEADER" \
        "http://127.0.0.1:$(node_port "$i")/api/v1/destinations/$DEST/$1" 2>>"$OUT/admin-$1.txt" || true)
      cat "$OUT/admin-$1-n$i.txt" >>"$OUT/admin-$1.txt" 2>/dev/null || true
      [ "$code" = 204 ] || [ "$worst" != 204 ] || worst=$code
    done
    echo "$worst"
  }
  # settle NAME TIMEOUT_S: waits until the receiver has every event the gateway accepted (bounded;
  # also gives up after STALL_S without a new delivery); the outcome goes to wait-NAME.json
  settle() {
    # in the background, so that a signal to this script ends the wait at once (see cleanup)
    python3 "$BENCH/benchlib.py" wait-delivered "$1" "$RECEIVER_PORT" "$NODE_PORTS" "$2" "$STALL_S" >"$OUT/wait-$1.json" &
    WAITER_PID=$!
    wait "$WAITER_PID" || true
    WAITER_PID=""
    [ "$(json_field "$OUT/wait-$1.json" '["done"]')" = True ] \
      || log "  not every accepted event was delivered after $1 ($(json_field "$OUT/wait-$1.json" '["reason"]')): see the report"
  }

  log "phase 4: the gateway again, fresh store ($([ "$STORE" = postgres ] && echo "database bench_e2e" || echo "bench/out/$STORE-$NODES/bench-e2e.db")), delivering to the receiver on 127.0.0.1:$RECEIVER_PORT"
  wait_port "$RECEIVER_PORT" BENCH_RECEIVER_PORT
  RECV_CAPACITY=$(( E2E_RECORDS + E2E_RECORDS / 10 + 10000 ))
  # shellcheck disable=SC2086
  note_cmd "$JAVA" $RECEIVER_JAVA_OPTS -cp "$OUT/classes" Receiver "$RECEIVER_PORT" "$TOTAL_RECORDS" "$RECV_CAPACITY"
  # shellcheck disable=SC2086
  "$JAVA" $RECEIVER_JAVA_OPTS -cp "$OUT/classes" Receiver "$RECEIVER_PORT" "$TOTAL_RECORDS" "$RECV_CAPACITY" \
    >"$OUT/receiver.log" 2>&1 &
  RECEIVER_PID=$!
  for _ in $(seq 300); do
    kill -0 "$RECEIVER_PID" 2>/dev/null || { cat "$OUT/receiver.log" >&2; die "the receiver exited (see bench/out/receiver.log)"; }
    owns_port "$RECEIVER_PID" "$RECEIVER_PORT" \
      && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$RECEIVER_PORT/stats" 2>/dev/null && break
    sleep 0.1
  done
  owns_port "$RECEIVER_PID" "$RECEIVER_PORT" || die "our receiver is not the one on port $RECEIVER_PORT"

  start_gateway "$E2E_CONFIG" "$OUT/gateway-e2e.log" "$OUT/gc-e2e.log" SWITCHBOARD_ADMIN_TOKEN="$ADMIN_TOKEN"
  sample e2e-started $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-started.json"
  # the admin API must answer before the backlog phase relies on it (resuming a running
  # destination changes nothing)
  code=$(admin_call resume)
  if [ "$code" = 204 ]; then
    ADMIN_OK=1
  else
    log "  the admin API answered $code to resume (expected 204): the backlog phase will be skipped"
  fi
  first_request "$OUT/first-response-e2e.txt"
  E2E_START=1
  phase_note "gateway_pid=$GATEWAY_PID" "gateway_pids=${GATEWAY_PIDS// /,}" "receiver_pid=$RECEIVER_PID" "records=$TOTAL_RECORDS"

  log "  warm-up ${WARMUP_S}s at full speed, deliveries included (discarded)"
  run_wrk e2e-warmup "$PORT" "$E2E_START" "$WARMUP_S"
  next=$(json_field "$OUT/wrk-e2e-warmup.json" '["next_index"]')
  phase_note "warmup_start=$E2E_START" "warmup_end=$next"
  E2E_START=$next
  settle e2e-warmup "$SETTLE_TIMEOUT_S"

  # -- phase 5: end-to-end latency at half the max rate (the same rate as phase 3)
  log "phase 5: end-to-end latency at a constant $HALF_RPS requests/s for ${HALF_S}s after ${HALF_WARMUP_S}s not counted"
  quiet 5-e2e-half
  scrape "$OUT/metrics-e2e-half-before.prom"
  sample e2e-half-before $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-half-before.json"
  # shellcheck disable=SC2086
  logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-e2e-half.time" \
    "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
    "$E2E_START" "$TOTAL_RECORDS" "$HALF_RPS" "$HALF_S" "$HALF_WARMUP_S" "$RATE_CONNECTIONS" \
    "$OUT/rate-e2e-half.json" "$OUT/e2e-half-send.txt" >"$OUT/rate-e2e-half.txt" 2>&1 \
    || { cat "$OUT/rate-e2e-half.txt" >&2; die "the constant-rate client failed"; }
  sample e2e-half-after $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-half-after.json"
  scrape "$OUT/metrics-e2e-half-after.prom"
  next=$(json_field "$OUT/rate-e2e-half.json" '["next_index"]')
  phase_note "half_start=$E2E_START" "half_end=$next"
  E2E_START=$next
  settle e2e-half "$SETTLE_TIMEOUT_S"
  scrape "$OUT/metrics-e2e-half-settled.prom"

  # -- phase 6: end-to-end throughput at full speed
  log "phase 6: full speed with deliveries for ${MEASURE_S}s"
  quiet 6-e2e-max
  scrape "$OUT/metrics-e2e-max-before.prom"
  sample e2e-max-before $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-max-before.json"
  t0=$(now_us)
  run_wrk e2e-max "$PORT" "$E2E_START" "$MEASURE_S"
  t1=$(now_us)
  sample e2e-max-after $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-max-after.json"
  scrape "$OUT/metrics-e2e-max-after.prom"
  next=$(json_field "$OUT/wrk-e2e-max.json" '["next_index"]')
  phase_note "max_start=$E2E_START" "max_end=$next" "max_t0_us=$t0" "max_t1_us=$t1"
  E2E_START=$next
  settle e2e-max "$SETTLE_TIMEOUT_S"
  scrape "$OUT/metrics-e2e-max-settled.prom"

  # -- phase 7: a backlog behind a paused destination, then its drain
  if [ "$ADMIN_OK" = 1 ]; then
    [ $(( E2E_START + BACKLOG )) -le "$TOTAL_RECORDS" ] || die "the request file is too small for the backlog"
    log "phase 7: pause $DEST, ingest $BACKLOG events as fast as they are taken, resume, drain (at most ${DRAIN_TIMEOUT_S}s)"
    quiet 7-e2e-backlog
    code=$(admin_call pause)
    [ "$code" = 204 ] || die "pausing $DEST answered $code, not 204 (bench/out/admin-pause.txt)"
    rstats "$OUT/recv-backlog-paused.json"
    scrape "$OUT/metrics-e2e-backlog-before.prom"
    sample e2e-backlog-before $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-before.json"
    t0=$(now_us)
    # shellcheck disable=SC2086
    logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-e2e-backlog.time" \
      "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient --burst 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
      "$E2E_START" "$TOTAL_RECORDS" "$BACKLOG" "$BACKLOG_INGEST_TIMEOUT_S" "$RATE_CONNECTIONS" \
      "$OUT/rate-e2e-backlog.json" >"$OUT/rate-e2e-backlog.txt" 2>&1 \
      || { cat "$OUT/rate-e2e-backlog.txt" >&2; die "the backlog client failed"; }
    t1=$(now_us)
    sample e2e-backlog-ingested $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-ingested.json"
    scrape "$OUT/metrics-e2e-backlog-ingested.prom"
    rstats "$OUT/recv-backlog-ingested.json"
    log "  ingested: $(json_field "$OUT/rate-e2e-backlog.json" '["statuses"]') in $(json_field "$OUT/rate-e2e-backlog.json" '["duration_s"]') s; resuming"
    tr=$(now_us)
    code=$(admin_call resume)
    [ "$code" = 204 ] || die "resuming $DEST answered $code, not 204 (bench/out/admin-resume.txt)"
    phase_note "backlog_start=$E2E_START" "backlog_end=$(( E2E_START + BACKLOG ))" \
      "backlog_t0_us=$t0" "backlog_t1_us=$t1" "backlog_resume_us=$tr"
    E2E_START=$(( E2E_START + BACKLOG ))
    settle e2e-backlog "$DRAIN_TIMEOUT_S"
    sample e2e-backlog-drained $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-drained.json"
    scrape "$OUT/metrics-e2e-backlog-drained.prom"
  fi

  # -- the records, then stop both (the gateway gracefully: its store is read afterwards)
  curl -fsS --max-time 120 "http://127.0.0.1:$RECEIVER_PORT/dump?file=$OUT/receiver.txt" >"$OUT/recv-final.json" \
    || die "could not dump the receiver's records"
  scrape "$OUT/metrics-e2e-final.prom"
  sample e2e-final $(server_pids) "$RECEIVER_PID" >"$OUT/sample-e2e-final.json"
  log "stopping the gateway (SIGTERM) and the receiver; reading the store"
  stop_gateways TERM
  phase_note "gateway_stopped_by_term=$STOPPED_BY_SIGNAL"
  pg_statements e2e
  rm -f "$ADMIN_HEADER"
  kill -TERM "$RECEIVER_PID" 2>/dev/null || true
  wait "$RECEIVER_PID" 2>/dev/null || true; RECEIVER_PID=""
  python3 "$BENCH/benchlib.py" e2e-analyse "$OUT" "$([ "$STORE" = postgres ] && echo pg:bench_e2e || echo "$OUT/bench-e2e.db")" >"$OUT/e2e.json"
fi

# ---- report ---------------------------------------------------------------------------------
{
  echo "mode=$MODE"
  echo "warmup_s=$WARMUP_S measure_s=$MEASURE_S half_s=$HALF_S half_warmup_s=$HALF_WARMUP_S nginx_warmup_s=$NGINX_WARMUP_S"
  echo "attempts=$ATTEMPTS contention_pct=$CONTENTION_PCT"
  echo "wrk_threads=$WRK_THREADS wrk_connections=$WRK_CONNECTIONS rate_connections=$RATE_CONNECTIONS"
  echo "record_size=$RECORD_SIZE body_size=$BODY_SIZE records=$TOTAL_RECORDS"
  echo "gateway_java_opts=${GATEWAY_JAVA_OPTS:-(defaults)}"
  echo "client_java_opts=$CLIENT_JAVA_OPTS"
  echo "loadgen_nice=$LOADGEN_NICE"
  echo "delivery=$DELIVERY admin_ok=$ADMIN_OK receiver_port=$RECEIVER_PORT e2e_concurrency=$E2E_CONCURRENCY backlog=$BACKLOG"
  echo "settle_timeout_s=$SETTLE_TIMEOUT_S drain_timeout_s=$DRAIN_TIMEOUT_S backlog_ingest_timeout_s=$BACKLOG_INGEST_TIMEOUT_S stall_s=$STALL_S"
  echo "receiver_java_opts=$RECEIVER_JAVA_OPTS"
  echo "java_home=$JAVA_HOME"
  echo "store=$STORE nodes=$NODES node_ports=$NODE_PORTS pg_pool=$PG_POOL pg_port=$PG_PORT"
  [ "$STORE" != postgres ] || echo "postgres=$("$PG_BIN/postgres" --version) shared_buffers=$PG_SHARED_BUFFERS max_connections=$PG_MAX_CONNECTIONS"
  echo "jar=$JAR_ID"
} >"$OUT/settings.txt"
# the gateways and the load balancer are stopped; PostgreSQL stays up for the report's queries
# until the end (cleanup stops it)
if [ -n "$OTLP_PID" ]; then
  # the sink writes its counts when it stops
  kill -TERM "$OTLP_PID" 2>/dev/null || true
  wait "$OTLP_PID" 2>/dev/null || true
  OTLP_PID=""
fi
python3 "$BENCH/benchlib.py" report "$OUT" >"$OUT/report.md"
cp "$OUT/report.md" "$OUT_ROOT/report.md"
log "report written to bench/out/$STORE-$NODES/report.md (copied to bench/out/report.md); bench/compare.sh puts the runs side by side"
echo
cat "$OUT/report.md"
