# Sourced by ./switchboard, bin/aot-cache.sh and the benchmarks (after bin/find-jdk.sh): the JVM
# options a gateway runs with, and the JDK's ahead-of-time cache when it can be used.
#
# SerialGC with a 192 MiB heap: a gateway holds little for long (the store keeps the work, and the
# in-memory queues are bounded by bytes), so one collector thread and a small young generation
# keep the process near 300 MiB at full speed, with the same acks/s as ParallelGC on 2 cores and
# pauses of a few ms (docs/adr/0011). ExitOnOutOfMemoryError: a supervisor restarts a healthy JVM.
SWITCHBOARD_DEFAULT_JAVA_OPTS="-XX:+UseSerialGC -Xmx192m -XX:+ExitOnOutOfMemoryError"
# Two malloc arenas instead of glibc's eight per core: the native memory SQLite and the JVM take on
# many threads otherwise spreads over arenas that each keep their free pages (docs/adr/0011).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# The cache ./mvnw package writes beside the jar with a JDK 25 or newer (docs/adr/0012).
# Prints the option that uses it when the running JDK can (25+) and the cache is as new as the jar;
# a cache the JVM cannot use (another JDK, another collector) is skipped with a warning at start.
# SWITCHBOARD_AOT=off starts without it.
_sb_aot_option() {
  [ "${SWITCHBOARD_AOT:-on}" != off ] || return 0
  _sb_jar=$1
  _sb_cache="${_sb_jar%.jar}.aot"
  [ -f "$_sb_cache" ] && [ ! "$_sb_jar" -nt "$_sb_cache" ] || return 0
  [ "$(_sb_java_major "$JAVA_HOME/bin/java")" -ge 25 ] 2>/dev/null || return 0
  printf '%s' "-XX:AOTCache=$_sb_cache"
}
