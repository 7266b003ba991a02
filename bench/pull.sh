#!/usr/bin/env bash
# A genesys-notifications source against the fake Genesys Cloud on 127.0.0.1 (SQLite store): events/s
# it stores from the stream, and the time from a dropped socket to resumed flow and to the gap
# backfilled. Writes bench/out/pull/report.md. Usage: bench/pull.sh [events (20000)] [drops (5)]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -o -q -B test-compile -Dspotless.check.skip=true
[ -f target/bench-test.cp ] || ./mvnw -o -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-test.cp
. bin/find-jdk.sh
SWITCHBOARD_LOG_LEVEL=WARN "${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "target/classes:target/test-classes:$(cat target/bench-test.cp)" \
  dev.switchboard.pull.genesys.PullBench "$@" 2> >(grep -v -e '"level":"INFO"' -e '^SLF4J' -e '^WARNING: ' >&2)
