#!/usr/bin/env bash
# Switchboard under a realistic Genesys-style stream: `switchboard emulate` drives the gateway.
#
#   bench/emulate.sh              build, then 60 s at 2,000 requests/s (about 2 minutes)
#   bench/emulate.sh --no-build   use target/switchboard.jar as it is
#
# Where bench/run.sh replays identical pre-signed requests with wrk for peak figures, this runs the
# emulator: varied dispositions with exact re-sends, supervisor overrides and late (out-of-order)
# events, retried like Genesys retries, against a gateway on a fresh SQLite file that delivers to
# the bench's fake destination (Receiver.java) through a per-key ordered route with stale events
# skipped. It reports the emulator's figures (sent / accepted / duplicate / rejected / retried,
# ack latency percentiles) and checks the store against what the destination received: every
# delivery the store calls delivered arrived, nothing arrived that the store does not know, and
# nothing arrived twice. Writes bench/out/emulate/report.md.
#
# Settings (environment): EMU_RATE [2000/s], EMU_DURATION [60s], EMU_DUPLICATES [0.05],
# EMU_OVERRIDES [0.05], EMU_OUT_OF_ORDER [0.02], EMU_CONNECTIONS [64], EMU_RETRY [3@1s],
# EMU_PAYLOAD [disposition], EMU_PORT [18590], EMU_RECEIVER_PORT [18592],
# EMU_SETTLE_TIMEOUT_S [300], EMU_JAVA_OPTS [the launcher's, bin/java-options.sh].
# Everything listens on 127.0.0.1 only and is stopped when the script ends, however it ends.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
OUT="$BENCH/out/emulate"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "emulate.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done
RATE=${EMU_RATE:-2000/s}
DURATION=${EMU_DURATION:-60s}
DUPLICATES=${EMU_DUPLICATES:-0.05}
OVERRIDES=${EMU_OVERRIDES:-0.05}
OUT_OF_ORDER=${EMU_OUT_OF_ORDER:-0.02}
CONNECTIONS=${EMU_CONNECTIONS:-64}
RETRY=${EMU_RETRY:-3@1s}
PAYLOAD=${EMU_PAYLOAD:-disposition}
PORT=${EMU_PORT:-18590}
RECEIVER_PORT=${EMU_RECEIVER_PORT:-18592}
SETTLE_TIMEOUT_S=${EMU_SETTLE_TIMEOUT_S:-300}
. "$ROOT/bin/java-options.sh"
GATEWAY_JAVA_OPTS=${EMU_JAVA_OPTS:-$SWITCHBOARD_DEFAULT_JAVA_OPTS}  # what ./switchboard runs it with

log() { printf '[emulate %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

GATEWAY_PID=""
RECEIVER_PID=""
cleanup() {
  local rc=$?
  for pid in "$GATEWAY_PID" "$RECEIVER_PID"; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v curl >/dev/null 2>&1 || die "curl is missing (apt-get install curl)"
command -v python3 >/dev/null 2>&1 || die "python3 is missing (apt-get install python3)"
. "$ROOT/bin/find-jdk.sh"
JAVA="$JAVA_HOME/bin/java"

if [ "$BUILD" = 1 ]; then
  log "building (./mvnw -q -B -DskipTests package)"
  mkdir -p "$OUT"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package) >"$OUT/build.log" 2>&1 \
    || { tail -n 40 "$OUT/build.log" >&2; die "the build failed (see $OUT/build.log)"; }
fi
[ -f "$ROOT/target/switchboard.jar" ] || die "target/switchboard.jar is missing (run without --no-build)"
for p in "$PORT" "$RECEIVER_PORT"; do
  ! ss -Hltn "sport = :$p" | grep -q . || die "port $p is in use (set EMU_PORT / EMU_RECEIVER_PORT)"
done

rm -rf "$OUT"
mkdir -p "$OUT/classes"
cp -p "$ROOT/target/switchboard.jar" "$OUT/switchboard.jar"
"$JAVA_HOME/bin/javac" -d "$OUT/classes" "$BENCH/Receiver.java"

# secrets through the environment, never on a command line
EMU_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
SWITCHBOARD_ADMIN_TOKEN=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
export EMU_SECRET SWITCHBOARD_ADMIN_TOKEN
CONFIG="$OUT/emulate.yaml"
cat >"$CONFIG" <<YAML
# written by bench/emulate.sh
server: { host: 127.0.0.1, port: $PORT, backlog_high_water: 1000000000 }
store: { path: $OUT/emulate.db }
admin: { token: "\${SWITCHBOARD_ADMIN_TOKEN}" }
sources:
  genesys-dispositions:
    verify: { scheme: hmac-sha256-hex, header: X-Genesys-Signature, secrets: ["\${EMU_SECRET}"] }
    idempotency: { key: "interactionId & '|' & timestamp", ttl: 48h }
    event_time: timestamp
    partition_key: interactionId
    redact: { remove: [recordingUrls, mediaUrls], mask: [contact.phoneNumber] }
routes:
  to-receiver:
    from: genesys-dispositions
    to: receiver
    ordering: per-key
    stale: skip
destinations:
  receiver:
    type: http
    url: "http://127.0.0.1:$RECEIVER_PORT/in"
    timeout: 10s
    concurrency: 64
    retry: { initial: 1s, max_delay: 30s }
YAML

log "receiver on 127.0.0.1:$RECEIVER_PORT, gateway on 127.0.0.1:$PORT (store $OUT/emulate.db)"
"$JAVA" -XX:+UseSerialGC -Xmx512m -cp "$OUT/classes" Receiver "$RECEIVER_PORT" 1 4000000 \
  >"$OUT/receiver.log" 2>&1 &
RECEIVER_PID=$!
"$JAVA" $GATEWAY_JAVA_OPTS -jar "$OUT/switchboard.jar" serve --config "$CONFIG" >"$OUT/gateway.log" 2>&1 &
GATEWAY_PID=$!
for _ in $(seq 1 300); do
  curl -fsS --max-time 1 "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 \
    && curl -fsS --max-time 1 "http://127.0.0.1:$RECEIVER_PORT/stats" >/dev/null 2>&1 && break
  kill -0 "$GATEWAY_PID" 2>/dev/null || { tail -n 20 "$OUT/gateway.log" >&2; die "the gateway exited"; }
  sleep 0.2
done
curl -fsS --max-time 1 "http://127.0.0.1:$PORT/readyz" >/dev/null || die "the gateway is not ready"

EMULATE=("$JAVA" -XX:+UseSerialGC -Xmx1g -jar "$OUT/switchboard.jar" emulate --config "$CONFIG"
  --source genesys-dispositions --payload "$PAYLOAD" --rate "$RATE" --duration "$DURATION"
  --duplicates "$DUPLICATES" --overrides "$OVERRIDES" --out-of-order "$OUT_OF_ORDER"
  --connections "$CONNECTIONS" --retry "$RETRY" --json)
printf '%q ' "${EMULATE[@]}" | sed "s#$ROOT/##g" >"$OUT/command.txt"
log "emulating: $PAYLOAD at $RATE for $DURATION (duplicates $DUPLICATES, overrides $OVERRIDES, late $OUT_OF_ORDER, retry $RETRY)"
T0=$(date +%s%3N)
"${EMULATE[@]}" >"$OUT/emulator.json" 2>"$OUT/emulator.log" || log "the emulator reported rejected or failed requests"
T1=$(date +%s%3N)

log "waiting (at most ${SETTLE_TIMEOUT_S}s) until no delivery is left pending"
# the admin API's destination view counts what is still queued
deadline=$(( $(date +%s) + SETTLE_TIMEOUT_S ))
while :; do
  pending=$(curl -fsS --max-time 5 -H "Authorization: Bearer $SWITCHBOARD_ADMIN_TOKEN" \
    "http://127.0.0.1:$PORT/api/v1/destinations/receiver" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("queueDepth", d.get("pending", -1)))' 2>/dev/null || echo -1)
  [ "$pending" = 0 ] && break
  [ "$(date +%s)" -ge "$deadline" ] && { log "still $pending pending after ${SETTLE_TIMEOUT_S}s"; break; }
  sleep 1
done
T2=$(date +%s%3N)
curl -fsS --max-time 30 "http://127.0.0.1:$RECEIVER_PORT/dump?file=$OUT/receiver.txt" >"$OUT/receiver-stats.json"
kill -TERM "$GATEWAY_PID"; wait "$GATEWAY_PID" 2>/dev/null || true; GATEWAY_PID=""

python3 "$BENCH/emulate_report.py" "$OUT" "$T0" "$T1" "$T2" >"$OUT/report.md"
cat "$OUT/report.md"
