#!/usr/bin/env bash
# Writes the JDK's ahead-of-time cache for a gateway jar: target/switchboard.jar ->
# target/switchboard.aot (docs/adr/0012). Run by `./mvnw package` with a JDK 25 or newer; a
# training run (`switchboard aot-training`: a gateway on a temporary SQLite file, a few events to a
# local sink on 127.0.0.1, then stop) with the launcher's JVM options records what a start loads
# and links. Usage: bin/aot-cache.sh JAR [JAVA]. Skipped (exit 0) with a JDK older than 25; a
# training run that fails leaves no cache and a warning, not a failed build (the gateway starts
# without one).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jar=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ -n "${2:-}" ]; then JAVA_HOME=$(cd "$(dirname "$2")/.." && pwd); fi
. "$here/bin/find-jdk.sh"
. "$here/bin/java-options.sh"
cache="${jar%.jar}.aot"
rm -f "$cache"
if ! [ "$(_sb_java_major "$JAVA_HOME/bin/java")" -ge 25 ] 2>/dev/null; then
  echo "aot-cache: JDK older than 25, no AOT cache (the gateway starts without one)" >&2
  exit 0
fi
log="${jar%.jar}.aot.log"
# shellcheck disable=SC2086 # the options are a list of words
if ! "$JAVA_HOME/bin/java" $SWITCHBOARD_DEFAULT_JAVA_OPTS -XX:AOTCacheOutput="$cache" \
    -jar "$jar" aot-training >"$log" 2>&1 || [ ! -f "$cache" ]; then
  rm -f "$cache"
  echo "aot-cache: WARNING the training run failed (see $log); no AOT cache" >&2
  exit 0
fi
touch "$cache"  # newer than the jar: the launcher uses it
