#!/usr/bin/env bash
# Switchboard soak: a bounded run at a steady rate with retention on; does anything grow without bound?
#
#   bench/soak.sh                         build, then 30 minutes at half the measured max rate
#   bench/soak.sh --minutes 4             a short soak (retention 1m, purge every 15s: the plateau shows)
#   bench/soak.sh --rate 2000             a given rate (requests/s) instead of half the measured max
#   bench/soak.sh --no-build              use target/switchboard.jar as it is
#   bench/soak.sh --no-failures           without the second route (the one whose deliveries fail)
#
# Starts the fake destination (Receiver.java) and the gateway on a fresh SQLite file with a short
# retention (so that the purge runs many times within the soak) and the launcher's JVM options
# (bin/java-options.sh: a 192 MiB heap). Two routes: every event to the receiver, and one event in sixty (those
# whose timestamp's seconds are 07) to a destination on a closed port, retried twice, then
# dead-lettered: so retries, attempts and dead letters (and their purge) are part of the soak.
# Measures the end-to-end max rate with a short burst (unless --rate is given), then drives half
# of it with RateClient (constant rate, open loop) for the duration. Every SOAK_SAMPLE_S seconds a
# sampler records RSS, heap after GC, GC pauses, threads, open file descriptors, the database's
# size and row counts, ack latency percentiles over the interval, the backlog, delivery lag and
# the receiver's count (bench/out/soak/samples.csv). At the end it waits for the queue to drain,
# checks that every acknowledged event reached the receiver, and writes bench/out/soak/report.md
# with a PASS/FAIL verdict per series (last third of the soak against the middle third); exits 1
# on any FAIL. See bench/README.md, "Soak".
#
# Settings (environment): SOAK_RETENTION [2m; 1m under 15 minutes], SOAK_RETENTION_INTERVAL [30s;
# 15s under 15 minutes], SOAK_JAVA_OPTS [the launcher's, bin/java-options.sh],
# SOAK_SAMPLE_S [10], SOAK_CONNECTIONS [64], SOAK_CONCURRENCY [64] (the destination's),
# SOAK_PROBE_WARMUP [20000], SOAK_PROBE_COUNT [60000] (burst requests for the max rate),
# SOAK_PORT [18610], SOAK_RECEIVER_PORT [18612], SOAK_DRAIN_TIMEOUT_S [600], SOAK_STALL_S [120].
# Everything listens on 127.0.0.1 only and is stopped when the script ends, however it ends.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$BENCH/out/soak"

MINUTES=30
RATE=""
BUILD=1
FAILURES=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) [ $# -ge 2 ] || { echo "soak: --minutes needs a number" >&2; exit 2; }; MINUTES=$2; shift ;;
    --minutes=*) MINUTES=${1#--minutes=} ;;
    --rate) [ $# -ge 2 ] || { echo "soak: --rate needs a number" >&2; exit 2; }; RATE=$2; shift ;;
    --rate=*) RATE=${1#--rate=} ;;
    --no-build) BUILD=0 ;;
    --no-failures) FAILURES=0 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$MINUTES" in ''|*[!0-9]*) echo "soak: --minutes needs a whole number" >&2; exit 2 ;; esac
[ "$MINUTES" -ge 2 ] && [ "$MINUTES" -le 720 ] || { echo "soak: --minutes is 2 to 720" >&2; exit 2; }
case "$RATE" in ''|[1-9]*) ;; *) echo "soak: --rate needs a positive number" >&2; exit 2 ;; esac
case "$RATE" in *[!0-9]*) echo "soak: --rate needs a whole number" >&2; exit 2 ;; esac

if [ "$MINUTES" -ge 15 ]; then
  RETENTION=${SOAK_RETENTION:-2m}; RETENTION_INTERVAL=${SOAK_RETENTION_INTERVAL:-30s}
else
  RETENTION=${SOAK_RETENTION:-1m}; RETENTION_INTERVAL=${SOAK_RETENTION_INTERVAL:-15s}
fi
. "$ROOT/bin/java-options.sh"
GATEWAY_JAVA_OPTS=${SOAK_JAVA_OPTS:-$SWITCHBOARD_DEFAULT_JAVA_OPTS}  # what ./switchboard runs it with
SAMPLE_S=${SOAK_SAMPLE_S:-10}
CONNECTIONS=${SOAK_CONNECTIONS:-64}
CONCURRENCY=${SOAK_CONCURRENCY:-64}
PROBE_WARMUP=${SOAK_PROBE_WARMUP:-20000}
PROBE_COUNT=${SOAK_PROBE_COUNT:-60000}
PORT=${SOAK_PORT:-18610}
RECEIVER_PORT=${SOAK_RECEIVER_PORT:-18612}
DRAIN_TIMEOUT_S=${SOAK_DRAIN_TIMEOUT_S:-600}
STALL_S=${SOAK_STALL_S:-120}
SOURCE=genesys-dispositions
HOOK_PATH=/hooks/$SOURCE
DEST=receiver
DURATION_S=$(( MINUTES * 60 ))

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- clean up on exit -----------------------------------------------------------------------
GATEWAY_PID=""
RECEIVER_PID=""
SAMPLER_PID=""
CLIENT_PID=""
WAITER_PID=""
cleanup() {
  local rc=$? p
  for p in "$CLIENT_PID" "$WAITER_PID" "$SAMPLER_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  for p in "$GATEWAY_PID" "$RECEIVER_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -KILL "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  rm -f "$OUT/requests.bin" "$OUT/probe.bin" 2>/dev/null || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null 2>&1 || die "curl is missing (apt-get install curl)"
command -v python3 >/dev/null 2>&1 || die "python3 is missing (apt-get install python3)"
command -v ss >/dev/null 2>&1 || die "ss is missing (apt-get install iproute2)"
. "$ROOT/bin/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

mkdir -p "$BENCH/out"
exec 9>"$BENCH/out/.soak.lock"
flock -n 9 || die "another bench/soak.sh is running"

if [ "$BUILD" = 1 ]; then
  log "building (./mvnw -q -B -DskipTests -Dswitchboard.tarball.skip=true package)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests -Dswitchboard.tarball.skip=true package) >"$BENCH/out/soak-build.log" 2>&1 \
    || { tail -n 40 "$BENCH/out/soak-build.log" >&2; die "the build failed (see bench/out/soak-build.log)"; }
fi
[ -f "$ROOT/target/switchboard.jar" ] || die "target/switchboard.jar is missing (run without --no-build)"
for p in "$PORT" "$RECEIVER_PORT"; do
  ! ss -Hltn "sport = :$p" | grep -q . || die "port $p is in use (set SOAK_PORT / SOAK_RECEIVER_PORT)"
done

rm -rf "$OUT"
mkdir -p "$OUT/classes"
# run a copy, so that a rebuild during the soak cannot change the jar under the JVM
cp -p "$ROOT/target/switchboard.jar" "$OUT/switchboard.jar"
JAR_ID="$(date -u -r "$OUT/switchboard.jar" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$OUT/switchboard.jar" | cut -c1-12)"
"$JAVA_HOME/bin/javac" -d "$OUT/classes" "$BENCH/RateClient.java" "$BENCH/Receiver.java"

# the signing secret goes to the gateway through the environment, never on a command line or in the outputs
BENCH_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export BENCH_SECRET

# ---- sizes ----------------------------------------------------------------------------------
# The request file holds one signed request per record, each used once (keys never repeat): the
# probe's records first, then the soak's. With --rate the rate is known; otherwise the probe runs
# on a small file and the full one is signed after it (the same secret: the same first records).
PROBE_RECORDS=$(( PROBE_WARMUP + PROBE_COUNT ))
soak_records() { echo $(( PROBE_RECORDS + $1 * (DURATION_S + 10) + 1000 )); }
# the client keeps ~52 bytes per request and the receiver ~20 per receipt: size their heaps
heap_for() { python3 -c "import sys; print(max(256, int($1 * $2 / 1048576) + 192))"; }

EXTRA_ROUTES=""
EXTRA_DESTINATIONS=""
if [ "$FAILURES" = 1 ]; then
  EXTRA_ROUTES=$(cat <<'FAILING'
  # one event in sixty (the timestamp's seconds are 07) also goes where every attempt fails
  to-dead-end: { from: genesys-dispositions, to: dead-end, when: '$substring(timestamp, 17, 2) = "07"' }
FAILING
)
  EXTRA_DESTINATIONS=$(cat <<FAILING
  dead-end:
    # a closed port: connection refused, retried twice, then a dead letter (kept $RETENTION);
    # the breaker is kept shut so that every delivery goes through its attempts: it opens after
    # 1,000,000 failures in a row (the most a configuration may ask for), which one event in sixty
    # with three attempts reaches only after about 5,500 s at 1,000 requests/s. (One in ten
    # reached it 27 minutes into a 30-minute soak at 2,028/s: the lane then sent one probe a
    # second and its backlog grew, which the soak reported as growth.)
    type: http
    method: POST
    url: "http://127.0.0.1:9/never"
    timeout: 2s
    concurrency: 8
    retry: { initial: 200ms, max_delay: 1s, max_attempts: 3 }
    circuit_breaker: { failures: 1000000, open_for: 1s }
FAILING
)
fi
CONFIG="$OUT/soak.yaml"
cat >"$CONFIG" <<YAML
# written by bench/soak.sh: a fresh SQLite store with a short retention, every event to the receiver
server:
  host: 127.0.0.1
  port: $PORT
store:
  path: $OUT/soak.db
  retention: { delivered: $RETENTION, dead: $RETENTION, interval: $RETENTION_INTERVAL }
sources:
  $SOURCE:
    verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["\${BENCH_SECRET}"] }
    # keys expire with the history, so that this table reaches its plateau within the soak too
    idempotency: { key: "interactionId & '|' & timestamp", ttl: $RETENTION }
    event_time: timestamp
    partition_key: interactionId
    redact: { remove: [recordingUrls, mediaUrls], mask: [contact.phoneNumber] }
routes:
  to-receiver: { from: $SOURCE, to: $DEST }
$EXTRA_ROUTES
destinations:
  $DEST:
    type: http
    method: POST
    url: "http://127.0.0.1:$RECEIVER_PORT/in"
    timeout: 10s
    concurrency: $CONCURRENCY
    retry: { initial: 1s, max_delay: 30s }
$EXTRA_DESTINATIONS
YAML

# start_receiver KEYS: the fake destination, sized for KEYS distinct keys (its records are
# allocated at start: ~24 bytes a receipt, so it is started again, smaller, after the probe)
start_receiver() {
  local keys=$1 capacity heap
  capacity=$(( keys + keys / 10 + 10000 ))
  heap=$(heap_for "$capacity" 24)
  "$JAVA" -XX:+UseSerialGC "-Xmx${heap}m" -cp "$OUT/classes" Receiver "$RECEIVER_PORT" "$keys" "$capacity" \
    >>"$OUT/receiver.log" 2>&1 &
  RECEIVER_PID=$!
  for _ in $(seq 300); do
    kill -0 "$RECEIVER_PID" 2>/dev/null || { cat "$OUT/receiver.log" >&2; die "the receiver exited"; }
    curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$RECEIVER_PORT/stats" 2>/dev/null && break
    sleep 0.2
  done
  ss -Hltnp "sport = :$RECEIVER_PORT" | grep -q "pid=$RECEIVER_PID," || die "our receiver is not the one on port $RECEIVER_PORT"
  log "receiver on 127.0.0.1:$RECEIVER_PORT (-Xmx${heap}m, $keys keys)"
}
stop_receiver() {
  kill -TERM "$RECEIVER_PID" 2>/dev/null || true
  wait "$RECEIVER_PID" 2>/dev/null || true
  RECEIVER_PID=""
}
if [ -n "$RATE" ]; then start_receiver "$(soak_records "$RATE")"; else start_receiver "$PROBE_RECORDS"; fi
log "gateway on 127.0.0.1:$PORT ($GATEWAY_JAVA_OPTS), store bench/out/soak/soak.db, retention delivered/dead $RETENTION every $RETENTION_INTERVAL$([ "$FAILURES" = 1 ] && echo ", one event in sixty also to a failing destination")"
# shellcheck disable=SC2086
"$JAVA" $GATEWAY_JAVA_OPTS "-Xlog:gc:file=$OUT/gc.log:timemillis" -jar "$OUT/switchboard.jar" serve --config "$CONFIG" \
  >"$OUT/gateway.log" 2>&1 &
GATEWAY_PID=$!
ready=0
for _ in $(seq 600); do
  kill -0 "$GATEWAY_PID" 2>/dev/null || { tail -n 30 "$OUT/gateway.log" >&2; die "the gateway exited (bench/out/soak/gateway.log)"; }
  if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then ready=1; break; fi
  sleep 0.2
done
[ "$ready" = 1 ] || die "the gateway is not ready after 120 s"
ss -Hltnp "sport = :$PORT" | grep -q "pid=$GATEWAY_PID," || die "our gateway is not the one on port $PORT"

# settle NAME TIMEOUT_S: waits (bounded) until the receiver has every event the gateway accepted
settle() {
  python3 "$BENCH/soak_report.py" wait "$OUT" "$1" "$PORT" "$2" "$STALL_S" &
  WAITER_PID=$!
  wait "$WAITER_PID" || true
  WAITER_PID=""
}
json_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$1" "$2"; }
sign() { python3 "$BENCH/gen_requests.py" "$1" "$2" "$BENCH_SECRET" "$HOOK_PATH"; }

# ---- the max rate (unless given): a burst with deliveries on, end to end ---------------------
PROBE_NOTE="given (--rate)"
MAX_E2E=""; MAX_INGEST=""
if [ -z "$RATE" ]; then
  log "signing $PROBE_RECORDS requests for the max-rate probe"
  RECORD_SIZE=$(sign "$OUT/probe.bin" "$PROBE_RECORDS")
  log "probe: $PROBE_WARMUP requests as fast as they are taken (warm-up), then $PROBE_COUNT measured, 64 connections"
  "$JAVA" -XX:+UseSerialGC -Xmx512m -cp "$OUT/classes" RateClient --burst 127.0.0.1 "$PORT" "$OUT/probe.bin" "$RECORD_SIZE" \
    0 "$PROBE_RECORDS" "$PROBE_WARMUP" 300 "$CONNECTIONS" "$OUT/probe-warmup.json" >"$OUT/probe-warmup.txt" 2>&1 \
    || { cat "$OUT/probe-warmup.txt" >&2; die "the probe's warm-up failed"; }
  settle probe-warmup 300
  t0=$(date +%s%N)
  "$JAVA" -XX:+UseSerialGC -Xmx512m -cp "$OUT/classes" RateClient --burst 127.0.0.1 "$PORT" "$OUT/probe.bin" "$RECORD_SIZE" \
    "$PROBE_WARMUP" "$PROBE_RECORDS" "$PROBE_COUNT" 300 "$CONNECTIONS" "$OUT/probe.json" >"$OUT/probe.txt" 2>&1 \
    || { cat "$OUT/probe.txt" >&2; die "the probe failed"; }
  settle probe 300
  t1=$(date +%s%N)
  [ "$(json_field "$OUT/wait-probe.json" '["done"]')" = True ] || die "the probe's events were not all delivered ($(json_field "$OUT/wait-probe.json" '["reason"]'))"
  MAX_INGEST=$(json_field "$OUT/probe.json" '["achieved_rps"]')
  # end to end: the probe's events over the time from the first send until the last was delivered
  MAX_E2E=$(python3 -c "print(round($PROBE_COUNT / (($t1 - $t0) / 1e9), 1))")
  RATE=$(python3 -c "print(max(1, int($MAX_E2E / 2)))")
  PROBE_NOTE="half of the measured end-to-end max ($MAX_E2E/s; ingest alone $MAX_INGEST/s)"
  rm -f "$OUT/probe.bin"
  stop_receiver
  start_receiver "$(soak_records "$RATE")"
  log "max rate end to end $MAX_E2E/s (ingest alone $MAX_INGEST/s): the soak runs at $RATE/s"
fi
TOTAL_RECORDS=$(soak_records "$RATE")
log "signing $TOTAL_RECORDS requests (about $(( TOTAL_RECORDS * 900 / 1048576 )) MiB, bench/out/soak/requests.bin, removed at the end)"
RECORD_SIZE=$(sign "$OUT/requests.bin" "$TOTAL_RECORDS")
START=$PROBE_RECORDS
CLIENT_HEAP=$(heap_for "$(( RATE * DURATION_S ))" 64)

cat >"$OUT/settings.txt" <<EOF
minutes=$MINUTES
duration_s=$DURATION_S
rate=$RATE
rate_note=$PROBE_NOTE
max_e2e=$MAX_E2E
max_ingest=$MAX_INGEST
retention=$RETENTION
retention_interval=$RETENTION_INTERVAL
gateway_java_opts=$GATEWAY_JAVA_OPTS
sample_s=$SAMPLE_S
connections=$CONNECTIONS
concurrency=$CONCURRENCY
failing_route=$FAILURES
start_record=$START
records=$TOTAL_RECORDS
gateway_pid=$GATEWAY_PID
jar=$JAR_ID
java=$("$JAVA" -version 2>&1 | head -n 1)
cpus=$(nproc)
EOF

# ---- the soak -------------------------------------------------------------------------------
echo load >"$OUT/phase"
# the sampler asks the gateway for a full GC (jcmd GC.run) at 1/3, 2/3 and the end of the load
JCMD="$JAVA_HOME/bin/jcmd" python3 "$BENCH/soak_report.py" sample "$OUT" "$GATEWAY_PID" "$PORT" "$RECEIVER_PORT" \
  "$SAMPLE_S" $(( DURATION_S + DRAIN_TIMEOUT_S + 600 )) "$DURATION_S" 2>"$OUT/sampler.log" &
SAMPLER_PID=$!
log "soak: a constant $RATE requests/s for $MINUTES min ($CONNECTIONS connections, client -Xmx${CLIENT_HEAP}m); samples every ${SAMPLE_S}s in bench/out/soak/samples.csv"
T_LOAD0=$(date +%s)
"$JAVA" -XX:+UseSerialGC "-Xmx${CLIENT_HEAP}m" -cp "$OUT/classes" RateClient 127.0.0.1 "$PORT" "$OUT/requests.bin" "$RECORD_SIZE" \
  "$START" "$TOTAL_RECORDS" "$RATE" "$DURATION_S" 0 "$CONNECTIONS" "$OUT/rate.json" "$OUT/send-log.txt" \
  >"$OUT/rate.txt" 2>&1 &
CLIENT_PID=$!
next_say=$(( T_LOAD0 + 60 ))
while kill -0 "$CLIENT_PID" 2>/dev/null; do
  kill -0 "$GATEWAY_PID" 2>/dev/null || { log "the gateway died during the soak"; break; }
  kill -0 "$SAMPLER_PID" 2>/dev/null || { tail -n 20 "$OUT/sampler.log" >&2; die "the sampler stopped"; }
  if [ "$(date +%s)" -ge "$next_say" ]; then
    log "  $(( ($(date +%s) - T_LOAD0) / 60 )) of $MINUTES min: $(tail -n 1 "$OUT/samples.csv" 2>/dev/null | python3 "$BENCH/soak_report.py" brief "$OUT")"
    next_say=$(( next_say + 60 ))
  fi
  if [ "$(date +%s)" -gt $(( T_LOAD0 + DURATION_S + 300 )) ]; then
    log "the client is still running 5 minutes after the soak's end: stopping it"
    kill -TERM "$CLIENT_PID" 2>/dev/null || true
  fi
  sleep 2
done
wait "$CLIENT_PID" || log "the client exited with an error (bench/out/soak/rate.txt)"
CLIENT_PID=""
T_LOAD1=$(date +%s)
echo drain >"$OUT/phase"
echo "load_t0=$T_LOAD0" >>"$OUT/settings.txt"
echo "load_t1=$T_LOAD1" >>"$OUT/settings.txt"

if kill -0 "$GATEWAY_PID" 2>/dev/null; then
  log "load done; waiting (at most ${DRAIN_TIMEOUT_S}s) until the receiver has every accepted event"
  settle drain "$DRAIN_TIMEOUT_S"
  log "  drain: $(json_field "$OUT/wait-drain.json" '["reason"]') after $(json_field "$OUT/wait-drain.json" '["waited_s"]') s"
  # one more sample after the drain, then the receiver's records
  sleep "$SAMPLE_S"
  curl -fsS --max-time 120 "http://127.0.0.1:$RECEIVER_PORT/dump?file=$OUT/receiver.txt" >"$OUT/receiver-stats.json" \
    || log "could not dump the receiver's records"
fi
echo done >"$OUT/phase"
kill -TERM "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
if kill -0 "$GATEWAY_PID" 2>/dev/null; then
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$GATEWAY_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
  echo "gateway_stopped=term" >>"$OUT/settings.txt"
else
  wait "$GATEWAY_PID" 2>/dev/null || true
  echo "gateway_stopped=died" >>"$OUT/settings.txt"
fi
GATEWAY_PID=""
stop_receiver
rm -f "$OUT/requests.bin"

rc=0
python3 "$BENCH/soak_report.py" report "$OUT" >"$OUT/report.md" || rc=$?
cat "$OUT/report.md"
log "report: bench/out/soak/report.md, samples: bench/out/soak/samples.csv"
exit "$rc"
