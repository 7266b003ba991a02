#!/usr/bin/env bash
# bench/faults.sh — the fault harness, in one command.
#
#   bench/faults.sh                       every scenario at its default length (about 8 minutes)
#   bench/faults.sh --minutes 0.5         every scenario about half a minute long
#   bench/faults.sh --scenario flap       one scenario: kill, flap, disk, cluster (or all)
#   bench/faults.sh --no-build            skip the formatter check; Maven still compiles what changed
#
# The scenarios are the ones of src/test/java/dev/switchboard/faults/FaultsIT.java, run through
# Failsafe with longer settings (faults.* system properties): load through the gateway while
#   kill     the packaged jar (child JVM, SQLite) is killed with SIGKILL every ~17 s and restarted
#   flap     the destination cycles 200 / 503 / timeouts / 429 Retry-After / connection resets
#   disk     the SQLite store sits on a 64 MB tmpfs that a filler file fills, then frees (root)
#   cluster  three gateways on Debian's PostgreSQL 15 (started here, as bench/run.sh does),
#            which is stopped (pg_ctl -m fast) for a while under load and started again
# After each, InvariantChecker proves: every 2xx'd event stored once; every delivery delivered or
# dead; every delivered one answered 200 under its own Idempotency-Key, repeats under the same key;
# nothing in flight; nothing sent inside a Retry-After pause or (single node) an open breaker.
# Report: bench/out/faults/report.md (one section per scenario). Exit status 1 if any invariant
# (or a scenario's own expectation) failed. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/bench/out/faults"
MINUTES=""
SCENARIO=all
NO_BUILD=0
RATE=100
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift ;;
    --scenario) SCENARIO=$2; shift ;;
    --no-build) NO_BUILD=1 ;;
    --rate) RATE=$2; shift ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "faults: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case "$SCENARIO" in all|kill|flap|disk|cluster) ;; *) echo "faults: --scenario is kill, flap, disk, cluster or all" >&2; exit 2 ;; esac
log() { printf '[faults %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# seconds S: S scaled by --minutes (the defaults are the lengths for which each is written)
scaled() { # default_seconds default_minutes
  if [ -z "$MINUTES" ]; then echo "$1"; else awk -v s="$1" -v d="$2" -v m="$MINUTES" 'BEGIN { v = int(s * m / d + 0.5); print (v < 1 ? 1 : v) }'; fi
}
KILL_EVERY_MS=17000
KILLS=$(scaled 7 2)                           # ~2 min: a kill every 17 s
FLAP_S=$(scaled 180 3)                        # ~3 min of flapping
DISK_BEFORE=$(scaled 10 1); DISK_FULL=$(scaled 40 1); DISK_AFTER=$(scaled 10 1)   # ~1 min
CL_BEFORE=$(scaled 30 2); CL_DOWN=$(scaled 30 2); CL_AFTER=$(scaled 60 2)         # ~2 min
[ "$KILLS" -ge 1 ] || KILLS=1
if [ -n "$MINUTES" ] && awk -v m="$MINUTES" 'BEGIN { exit !(m < 1) }'; then KILL_EVERY_MS=8000; KILLS=$(scaled 15 2); fi

rm -rf "$OUT"; mkdir -p "$OUT"
PG_DATA=""; PG_AS=(); PG_BIN=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  # tmpfs mounts the disk scenario may have left behind (it unmounts its own in a finally)
  grep -o " $ROOT/target/[^ ]*faults[^ ]*/disk " /proc/mounts 2>/dev/null | while read -r m; do umount -l "$m" || true; done
  grep " /tmp/junit[^ ]*/disk tmpfs" /proc/mounts 2>/dev/null | awk '{print $2}' | while read -r m; do umount -l "$m" || true; done
  exit "$rc"
}
trap cleanup EXIT INT TERM

PROPS=(-Dfaults.out="$OUT" -Dfaults.rate="$RATE" -Dfaults.heartbeat_ms="${FAULTS_HEARTBEAT_MS:-20000}"
  -Dfaults.kill.kills="$KILLS" -Dfaults.kill.every_ms="$KILL_EVERY_MS"
  -Dfaults.flap.seconds="$FLAP_S"
  -Dfaults.disk.before_s="$DISK_BEFORE" -Dfaults.disk.full_s="$DISK_FULL" -Dfaults.disk.after_s="$DISK_AFTER"
  -Dfaults.cluster.before_s="$CL_BEFORE" -Dfaults.cluster.down_s="$CL_DOWN" -Dfaults.cluster.after_s="$CL_AFTER")

# ---- PostgreSQL 15 from Debian for the cluster scenario (as bench/run.sh starts it) ----------
if [ "$SCENARIO" = all ] || [ "$SCENARIO" = cluster ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
    PG_PORT=${FAULTS_PG_PORT:-18593}
    PG_OWNER=""
    if [ "$(id -u)" = 0 ]; then
      PG_OWNER=postgres; id "$PG_OWNER" >/dev/null 2>&1 || PG_OWNER=nobody
      PG_AS=(setpriv --reuid="$(id -u "$PG_OWNER")" --regid="$(id -g "$PG_OWNER")" --clear-groups --)
    fi
    FAULTS_PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
    export FAULTS_PG_PASSWORD
    dir="$OUT/pg"; mkdir -p "$dir"; chmod 700 "$dir"; [ -z "$PG_OWNER" ] || chown "$PG_OWNER" "$dir"
    PG_DATA="$dir/data"
    (umask 077; printf '%s\n' "$FAULTS_PG_PASSWORD" >"$dir/pwfile"); [ -z "$PG_OWNER" ] || chown "$PG_OWNER" "$dir/pwfile"
    "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --pwfile="$dir/pwfile" \
      --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$OUT/pg-initdb.log" 2>&1 \
      || { rm -f "$dir/pwfile"; cat "$OUT/pg-initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = ''\nmax_connections = 60\nfsync = on\nsynchronous_commit = on\n" "$PG_PORT" >>"$PG_DATA/postgresql.conf"
    PG_START="${PG_AS[*]} $PG_BIN/pg_ctl -D $PG_DATA -l $OUT/pg/server.log -w -t 60 start"
    PG_STOP="${PG_AS[*]} $PG_BIN/pg_ctl -D $PG_DATA -m fast -w -t 60 stop"
    bash -c "$PG_START" >>"$OUT/pg-ctl.log" 2>&1 || { tail -n 20 "$OUT/pg/server.log" >&2; exit 1; }
    PGPASSWORD=$FAULTS_PG_PASSWORD psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE faults" >/dev/null
    log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
    PROPS+=(-Dfaults.pg.url="jdbc:postgresql://127.0.0.1:$PG_PORT/faults" -Dfaults.pg.user=postgres
      -Dfaults.pg.stop="$PG_STOP >>$OUT/pg-ctl.log 2>&1" -Dfaults.pg.start="$PG_START >>$OUT/pg-ctl.log 2>&1")
  else
    log "no Debian PostgreSQL (apt-get install postgresql): the cluster scenario uses the embedded one"
  fi
fi

case "$SCENARIO" in
  all) IT=FaultsIT ;;
  kill) IT='FaultsIT#killedWithSigkillRepeatedly' ;;
  flap) IT='FaultsIT#destinationFlaps' ;;
  disk) IT='FaultsIT#diskUnderTheStoreFillsUp' ;;
  cluster) IT='FaultsIT#postgresStopsUnderAThreeNodeCluster' ;;
esac
EXTRA=()
[ "$NO_BUILD" = 0 ] || EXTRA+=(-Dspotless.check.skip=true)
log "scenario(s) $SCENARIO: kills=$KILLS every ${KILL_EVERY_MS}ms, flap ${FLAP_S}s, disk ${DISK_BEFORE}+${DISK_FULL}+${DISK_AFTER}s, cluster ${CL_BEFORE}+${CL_DOWN}+${CL_AFTER}s"
set +e
./mvnw -o -B verify -Dswitchboard.tarball.skip=true -Dtest=NoSuch -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test="$IT" "${PROPS[@]}" "${EXTRA[@]}" >"$OUT/maven.log" 2>&1
RC=$?
set -e

{
  echo "# Fault harness report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), \`bench/faults.sh${MINUTES:+ --minutes $MINUTES} --scenario $SCENARIO\`, commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores."
  echo
  for s in kill flap disk cluster; do
    if [ -f "$OUT/$s.md" ]; then cat "$OUT/$s.md"; echo;
    elif [ "$SCENARIO" = all ] || [ "$SCENARIO" = "$s" ]; then echo "## $s"; echo; echo "**did not finish** (see bench/out/faults/maven.log)"; echo; fi
  done
  echo "## Maven"
  echo
  grep -E "Tests run:|FAIL|BUILD" "$OUT/maven.log" | sed 's/^/    /' || true
} >"$OUT/report.md"
log "report: bench/out/faults/report.md"
grep -E "^- result" "$OUT/report.md" || true
if [ "$RC" != 0 ] || grep -q "INVARIANT FAILED\|did not finish" "$OUT/report.md"; then
  log "FAILED (maven exit $RC)"; exit 1
fi
log "every invariant held in every scenario run"
