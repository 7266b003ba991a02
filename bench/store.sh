#!/usr/bin/env bash
# Store-level ingest benchmark: SqlEventStore on SQLite (temp file) and the embedded PostgreSQL,
# many concurrent clients, prints events/s and commits/s. Usage: bench/store.sh [sqlite|postgres|both] [events] [threads]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -o -q -B test-compile
[ -f target/bench-test.cp ] || ./mvnw -o -q -B dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-test.cp
. bin/find-jdk.sh
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "target/classes:target/test-classes:$(cat target/bench-test.cp)" dev.switchboard.store.sql.StoreIngestBench "$@" 2> >(grep -v -e '"level":"INFO"' -e '^SLF4J' -e '^WARNING: ' >&2)
