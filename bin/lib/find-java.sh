# Sourced by bin/tidemark and .ci/run: picks a JDK >= 21 and exports TIDEMARK_JAVA_HOME.
# Order: $TIDEMARK_JAVA_HOME, $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first),
# then the java on PATH. Reads each JDK's `release` file instead of running `java -version`,
# because the launcher runs once per WAL segment and a JVM start per probe is too slow.

tidemark_java_major() { # $1 = JDK home; prints the major version or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -r "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  printf '%s' "$v"
}

tidemark_find_java() {
  local c m
  for c in "${TIDEMARK_JAVA_HOME:-}" "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    [ -n "$c" ] || continue
    c=${c%/}
    m=$(tidemark_java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then
      TIDEMARK_JAVA_HOME=$c
      export TIDEMARK_JAVA_HOME
      return 0
    fi
  done
  if command -v java >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    m=$(tidemark_java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then
      TIDEMARK_JAVA_HOME=$c
      export TIDEMARK_JAVA_HOME
      return 0
    fi
  fi
  return 1
}
