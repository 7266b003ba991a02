# Sourced by ./switchboard and ./mvnw: makes JAVA_HOME point at a JDK 21 or newer.
# Order: $JAVA_HOME, `java` on PATH, then /usr/lib/jvm/* and /opt/java/* (newest first).
# Fails with a clear message when none is found.

_sb_java_major() {
  # prints the major version of the java binary given as $1, or nothing: from the JDK's release
  # file when it has one (reading it costs nothing; starting a JVM to ask costs ~50 ms a start)
  _sb_release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$_sb_release" ]; then
    _sb_rv=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$_sb_release" | head -n 1)
    if [ -n "$_sb_rv" ]; then
      echo "$_sb_rv"
      return
    fi
  fi
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

_sb_ok_home() {
  [ -n "$1" ] && [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  _v=$(_sb_java_major "$1/bin/java")
  [ -n "$_v" ] && [ "$_v" -ge 21 ]
}

if ! _sb_ok_home "${JAVA_HOME:-}"; then
  _sb_found=""
  if command -v java >/dev/null 2>&1; then
    _sb_path_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    _sb_ok_home "$_sb_path_home" && _sb_found="$_sb_path_home"
  fi
  if [ -z "$_sb_found" ]; then
    for _sb_candidate in $(ls -d /usr/lib/jvm/* /opt/java/* "$HOME"/.sdkman/candidates/java/* 2>/dev/null | sort -rV); do
      if _sb_ok_home "$_sb_candidate"; then _sb_found="$_sb_candidate"; break; fi
    done
  fi
  if [ -z "$_sb_found" ]; then
    echo "switchboard: no JDK 21 or newer found (looked at JAVA_HOME, java on PATH, /usr/lib/jvm, /opt/java)." >&2
    echo "switchboard: install one, e.g. 'apt-get install openjdk-21-jdk-headless' or Temurin 21+, or set JAVA_HOME." >&2
    exit 1
  fi
  JAVA_HOME="$_sb_found"
fi
export JAVA_HOME
# Maven's own Guice trips JDK 24+'s sun.misc.Unsafe warning; silence it where the flag exists.
if [ "$(_sb_java_major "$JAVA_HOME/bin/java")" -ge 24 ] 2>/dev/null; then
  case "${MAVEN_OPTS:-}" in
    *sun-misc-unsafe-memory-access*) ;;
    *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;;
  esac
fi
