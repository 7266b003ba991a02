#!/usr/bin/env bash
# The tarball's and the images' AOT cache (docs/adr/0012): the JVM takes a cache only with the
# runtime and the jar it was made with, at the same places relative to each other, and the jar with
# the same time stamp, so the training run happens in the tarball's own layout:
# TARGET/aot-stage/switchboard/{runtime,lib/switchboard.jar} (the jlink'd runtime, and the jar
# stamped 1970-01-01T00:00:01Z, the time Jib gives every file of an image), writing
# lib/switchboard.aot there. The tarball and the image take the jar and the cache from there. Run
# by `./mvnw package` after jlink. A training run that fails leaves the cache out, with a warning.
# Usage: packaging/aot-cache.sh TARGET [SKIP]   (SKIP "true": no cache, -Dswitchboard.aot.skip)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target=$(cd "$1" && pwd)
stage="$target/aot-stage/switchboard"
rm -rf "$target/aot-stage"
mkdir -p "$stage/lib"
cp "$target/switchboard.jar" "$stage/lib/switchboard.jar"
touch -d @1 "$stage/lib/switchboard.jar"
[ "${2:-false}" != true ] || exit 0
cp -a "$target/jlink/runtime" "$stage/runtime"
major=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$stage/runtime/release" 2>/dev/null | head -n 1)
if ! [ "${major:-0}" -ge 25 ] 2>/dev/null; then
  echo "aot-cache: runtime older than JDK 25, the tarball carries no AOT cache" >&2
  rm -rf "$stage/runtime"
  exit 0
fi
. "$here/bin/java-options.sh"
log="$target/aot-stage/training.log"
# shellcheck disable=SC2086 # the options are a list of words
if ! "$stage/runtime/bin/java" $SWITCHBOARD_DEFAULT_JAVA_OPTS \
    -XX:AOTCacheOutput="$stage/lib/switchboard.aot" -jar "$stage/lib/switchboard.jar" \
    aot-training >"$log" 2>&1 || [ ! -f "$stage/lib/switchboard.aot" ]; then
  echo "aot-cache: WARNING the training run failed (see $log); the tarball carries no AOT cache" >&2
  rm -f "$stage/lib/switchboard.aot"
fi
rm -rf "$stage/runtime"
