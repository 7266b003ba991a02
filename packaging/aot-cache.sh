#!/usr/bin/env bash
# The tarball's AOT cache (docs/adr/0012): the JVM uses a cache only with the runtime and the jar
# it was made with, at the same paths relative to each other, so the training run happens in the
# tarball's own layout: TARGET/aot-stage/switchboard/{runtime,lib/switchboard.jar} (the jlink'd
# runtime and the jar, copied with their times), writing lib/switchboard.aot there; the tarball
# takes it from there. Run by `./mvnw package` after jlink.
# Usage: packaging/aot-cache.sh TARGET [SKIP]   (SKIP "true": no cache, -Dswitchboard.aot.skip)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=$(cd "$1" && pwd)
stage="$target/aot-stage/switchboard"
rm -rf "$target/aot-stage"
[ "${2:-false}" != true ] || exit 0
mkdir -p "$stage/lib"
cp -a "$target/jlink/runtime" "$stage/runtime"
cp -p "$target/switchboard.jar" "$stage/lib/switchboard.jar"
JAVA_HOME="$stage/runtime"
. "$here/bin/find-jdk.sh" 2>/dev/null || true  # only for _sb_java_major: a jlink'd runtime has no javac
. "$here/bin/java-options.sh"
if ! [ "$(_sb_java_major "$stage/runtime/bin/java")" -ge 25 ] 2>/dev/null; then
  echo "aot-cache: runtime older than JDK 25, the tarball carries no AOT cache" >&2
  exit 0
fi
log="$target/aot-stage/training.log"
# shellcheck disable=SC2086 # the options are a list of words
if ! "$stage/runtime/bin/java" $SWITCHBOARD_DEFAULT_JAVA_OPTS \
    -XX:AOTCacheOutput="$stage/lib/switchboard.aot" -jar "$stage/lib/switchboard.jar" \
    aot-training >"$log" 2>&1; then
  echo "aot-cache: the training run failed (see $log)" >&2
  exit 1
fi
[ -f "$stage/lib/switchboard.aot" ] || { echo "aot-cache: no cache written (see $log)" >&2; exit 1; }
