#!/usr/bin/env bash
# Switchboard benchmark (ingest and end-to-end delivery): one command, one machine, one report.
#
#   bench/run.sh              full run (about 10 minutes after the build)
#   bench/run.sh --quick      shorter phases and a small backlog (about 3 minutes), for checking
#   bench/run.sh --no-build   use target/switchboard.jar as it is
#   bench/run.sh --ingest-only  skip the delivery phases
#
# Builds the jar, measures nginx answering 202 to the same signed requests (the machine's
# ceiling), starts the gateway on a fresh SQLite file, drives it with wrk at full speed, then at
# half that rate with a constant-rate client, checks that every acknowledged event is in the
# database after a SIGKILL. Then starts the gateway again on another fresh file, delivering every
# event to a fake destination (Receiver.java): end-to-end latency at the same half rate,
# throughput at full speed, and how fast a paused destination's backlog drains. Writes
# bench/out/report.md. See bench/README.md.
#
# Everything listens on 127.0.0.1 only; every phase is bounded in time; the gateway, nginx and
# the receiver are stopped on exit, whatever happens.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$BENCH/out"

# ---- settings (environment overrides) -------------------------------------------------------
MODE=full
BUILD=1
DELIVERY=1
for arg in "$@"; do
  case "$arg" in
    --quick) MODE=quick ;;
    --no-build) BUILD=0 ;;
    --ingest-only) DELIVERY=0 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done
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
PORT=${BENCH_PORT:-18580}                   # the gateway
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
GATEWAY_JAVA_OPTS=${BENCH_JAVA_OPTS:--XX:+UseParallelGC}  # what ./switchboard runs it with
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
GATEWAY_PID=""
NGINX_PID=""
RECEIVER_PID=""
WAITER_PID=""
cleanup() {
  local rc=$?
  if [ -n "$WAITER_PID" ] && kill -0 "$WAITER_PID" 2>/dev/null; then
    kill -TERM "$WAITER_PID" 2>/dev/null || true
    wait "$WAITER_PID" 2>/dev/null || true
  fi
  if [ -n "$GATEWAY_PID" ] && kill -0 "$GATEWAY_PID" 2>/dev/null; then
    kill -KILL "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
  fi
  if [ -n "$RECEIVER_PID" ] && kill -0 "$RECEIVER_PID" 2>/dev/null; then
    kill -KILL "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
  fi
  if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -TERM "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
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
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need_pkgs[*]}: install them (apt-get install ${need_pkgs[*]})"
  log "installing ${need_pkgs[*]} from apt"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi
. "$ROOT/bin/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

mkdir -p "$OUT"
# one run at a time: a second one would delete the first one's files
exec 9>"$OUT/.run.lock"
if ! flock -n 9; then
  log "another bench/run.sh is running; waiting up to ${QUIET_WAIT_S}s for it to finish"
  flock -w "$QUIET_WAIT_S" 9 || die "another bench/run.sh is still running"
fi
rm -f "$OUT"/*.json "$OUT"/*.prom "$OUT"/*.txt "$OUT"/*.time "$OUT"/*.log "$OUT"/report.md \
  "$OUT"/bench.db "$OUT"/bench.db-wal "$OUT"/bench.db-shm \
  "$OUT"/bench-e2e.db "$OUT"/bench-e2e.db-wal "$OUT"/bench-e2e.db-shm "$OUT"/bench-e2e.yaml "$OUT"/admin-header
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
  log "building (./mvnw -q -B -DskipTests package)"
  (cd "$ROOT" && logged ./mvnw -q -B -DskipTests package) >"$OUT/build.log" 2>&1 \
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
REQUESTS="$OUT/requests.bin"
META="$OUT/requests.meta"
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
scrape() {
  curl -fsS --max-time 10 "http://127.0.0.1:$PORT/metrics" >"$1" || die "could not read the gateway's /metrics"
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
store: { path: $OUT/bench.db }
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
# the disk's own fsync latency, the floor under a durable ack
python3 "$BENCH/benchlib.py" fsync-probe "$OUT" 1000 >"$OUT/fsync-probe.json"
log "phase 2: the gateway on 127.0.0.1:$PORT, fresh store bench/out/bench.db"
# start_gateway CONFIG LOG GC_LOG [VAR=value...]: starts the gateway (GATEWAY_PID), waits (bounded)
# until it is ready and checks that the port is its own
start_gateway() {
  local config=$1 glog=$2 gclog=$3
  shift 3
  wait_port "$PORT" BENCH_PORT
  # the GC log (pauses only, to a file) lets the report tell GC pauses from other stalls
  local gc_opt="-Xlog:gc:file=$gclog:timemillis"
  # shellcheck disable=SC2086
  note_cmd "$JAVA" $GATEWAY_JAVA_OPTS "$gc_opt" -jar "$OUT/switchboard.jar" serve --config "$config"
  # shellcheck disable=SC2086
  env "$@" "$JAVA" $GATEWAY_JAVA_OPTS "$gc_opt" -jar "$OUT/switchboard.jar" serve --config "$config" >"$glog" 2>&1 &
  GATEWAY_PID=$!
  local ready=0
  for _ in $(seq 600); do
    kill -0 "$GATEWAY_PID" 2>/dev/null || { tail -n 40 "$glog" >&2; die "the gateway exited (see $glog)"; }
    if owns_port "$GATEWAY_PID" "$PORT" \
      && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
  done
  [ "$ready" = 1 ] || { tail -n 40 "$glog" >&2; die "the gateway is not ready after 60s"; }
  # the port cannot change hands while our process holds it; check once more that it is ours
  owns_port "$GATEWAY_PID" "$PORT" || die "our gateway is not the one on port $PORT"
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
sample gateway-started "$GATEWAY_PID" >"$OUT/sample-gateway-started.json"
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
  sample gateway-max-before "$GATEWAY_PID" >"$OUT/sample-gateway-max-before.json"
  log "  measuring ${MEASURE_S}s at full speed"
  run_wrk gateway-max "$PORT" "$START" "$MEASURE_S"
  sample gateway-max-after "$GATEWAY_PID" >"$OUT/sample-gateway-max-after.json"
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
  sample gateway-half-before "$GATEWAY_PID" >"$OUT/sample-gateway-half-before.json"
  # shellcheck disable=SC2086
  logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-half.time" \
    "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
    "$START" "$TOTAL_RECORDS" "$HALF_RPS" "$HALF_S" "$HALF_WARMUP_S" "$RATE_CONNECTIONS" \
    "$OUT/rate-half.json" >"$OUT/rate-half.txt" 2>&1 \
    || { cat "$OUT/rate-half.txt" >&2; die "the constant-rate client failed"; }
  sample gateway-half-after "$GATEWAY_PID" >"$OUT/sample-gateway-half-after.json"
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
sample gateway-final "$GATEWAY_PID" >"$OUT/sample-gateway-final.json"
log "SIGKILL to the gateway, then counting the events in bench/out/bench.db"
kill -KILL "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""
python3 "$BENCH/benchlib.py" durability "$OUT/bench.db" >"$OUT/durability.json"

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
store: { path: $OUT/bench-e2e.db }
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
  admin_call() {
    curl -sS -o "$OUT/admin-$1.txt" -w '%{http_code}' --max-time 35 -X POST -H @"$ADMIN_HEADER" \
      "http://127.0.0.1:$PORT/api/v1/destinations/$DEST/$1" 2>>"$OUT/admin-$1.txt" || true
  }
  # settle NAME TIMEOUT_S: waits until the receiver has every event the gateway accepted (bounded;
  # also gives up after STALL_S without a new delivery); the outcome goes to wait-NAME.json
  settle() {
    # in the background, so that a signal to this script ends the wait at once (see cleanup)
    python3 "$BENCH/benchlib.py" wait-delivered "$1" "$RECEIVER_PORT" "$PORT" "$2" "$STALL_S" >"$OUT/wait-$1.json" &
    WAITER_PID=$!
    wait "$WAITER_PID" || true
    WAITER_PID=""
    [ "$(json_field "$OUT/wait-$1.json" '["done"]')" = True ] \
      || log "  not every accepted event was delivered after $1 ($(json_field "$OUT/wait-$1.json" '["reason"]')): see the report"
  }

  log "phase 4: the gateway again, fresh store bench/out/bench-e2e.db, delivering to the receiver on 127.0.0.1:$RECEIVER_PORT"
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
  sample e2e-started "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-started.json"
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
  phase_note "gateway_pid=$GATEWAY_PID" "receiver_pid=$RECEIVER_PID" "records=$TOTAL_RECORDS"

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
  sample e2e-half-before "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-half-before.json"
  # shellcheck disable=SC2086
  logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-e2e-half.time" \
    "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
    "$E2E_START" "$TOTAL_RECORDS" "$HALF_RPS" "$HALF_S" "$HALF_WARMUP_S" "$RATE_CONNECTIONS" \
    "$OUT/rate-e2e-half.json" "$OUT/e2e-half-send.txt" >"$OUT/rate-e2e-half.txt" 2>&1 \
    || { cat "$OUT/rate-e2e-half.txt" >&2; die "the constant-rate client failed"; }
  sample e2e-half-after "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-half-after.json"
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
  sample e2e-max-before "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-max-before.json"
  t0=$(now_us)
  run_wrk e2e-max "$PORT" "$E2E_START" "$MEASURE_S"
  t1=$(now_us)
  sample e2e-max-after "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-max-after.json"
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
    sample e2e-backlog-before "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-before.json"
    t0=$(now_us)
    # shellcheck disable=SC2086
    logged "${NICE[@]}" /usr/bin/time -f '%U %S %e' -o "$OUT/rate-e2e-backlog.time" \
      "$JAVA" $CLIENT_JAVA_OPTS -cp "$OUT/classes" RateClient --burst 127.0.0.1 "$PORT" "$REQUESTS" "$RECORD_SIZE" \
      "$E2E_START" "$TOTAL_RECORDS" "$BACKLOG" "$BACKLOG_INGEST_TIMEOUT_S" "$RATE_CONNECTIONS" \
      "$OUT/rate-e2e-backlog.json" >"$OUT/rate-e2e-backlog.txt" 2>&1 \
      || { cat "$OUT/rate-e2e-backlog.txt" >&2; die "the backlog client failed"; }
    t1=$(now_us)
    sample e2e-backlog-ingested "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-ingested.json"
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
    sample e2e-backlog-drained "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-backlog-drained.json"
    scrape "$OUT/metrics-e2e-backlog-drained.prom"
  fi

  # -- the records, then stop both (the gateway gracefully: its store is read afterwards)
  curl -fsS --max-time 120 "http://127.0.0.1:$RECEIVER_PORT/dump?file=$OUT/receiver.txt" >"$OUT/recv-final.json" \
    || die "could not dump the receiver's records"
  scrape "$OUT/metrics-e2e-final.prom"
  sample e2e-final "$GATEWAY_PID" "$RECEIVER_PID" >"$OUT/sample-e2e-final.json"
  log "stopping the gateway (SIGTERM) and the receiver; reading bench/out/bench-e2e.db"
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  stopped=0
  for _ in $(seq 600); do
    kill -0 "$GATEWAY_PID" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
  done
  [ "$stopped" = 1 ] || { log "  the gateway did not stop within 60 s of SIGTERM: SIGKILL"; kill -KILL "$GATEWAY_PID" 2>/dev/null || true; }
  wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""
  phase_note "gateway_stopped_by_term=$stopped"
  rm -f "$ADMIN_HEADER"
  kill -TERM "$RECEIVER_PID" 2>/dev/null || true
  wait "$RECEIVER_PID" 2>/dev/null || true; RECEIVER_PID=""
  python3 "$BENCH/benchlib.py" e2e-analyse "$OUT" >"$OUT/e2e.json"
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
  echo "jar=$JAR_ID"
} >"$OUT/settings.txt"
python3 "$BENCH/benchlib.py" report "$OUT" >"$OUT/report.md"
log "report written to bench/out/report.md"
echo
cat "$OUT/report.md"
