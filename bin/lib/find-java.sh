# Sourced by bin/tidemark and .ci/run: picks a JDK >= 21 and exports TIDEMARK_JAVA_HOME.
# Order: $TIDEMARK_JAVA_HOME, $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first),
# then the java on PATH. Bash builtins only on the common path (no subprocess): PostgreSQL
# starts the launcher once per WAL segment, and each fork costs milliseconds.

tidemark_java_major() { # $1 = JDK home; sets TIDEMARK_JAVA_MAJOR (empty when not a JDK)
  local line v=""
  TIDEMARK_JAVA_MAJOR=""
  [ -x "$1/bin/java" ] || return 0
  if [ -r "$1/release" ]; then
    while IFS= read -r line; do
      case "$line" in
        JAVA_VERSION=*) v=${line#JAVA_VERSION=}; v=${v//\"/}; v=${v%%[.+-]*}; break ;;
      esac
    done < "$1/release"
  else
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  TIDEMARK_JAVA_MAJOR=$v
}

tidemark_java_ok() { # $1 = JDK home; true when it is Java 21 or newer
  tidemark_java_major "$1"
  [ -n "$TIDEMARK_JAVA_MAJOR" ] && [ "$TIDEMARK_JAVA_MAJOR" -ge 21 ] 2>/dev/null
}

tidemark_find_java() {
  local c
  for c in "${TIDEMARK_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
    c=${c%/}
    if [ -n "$c" ] && tidemark_java_ok "$c"; then
      TIDEMARK_JAVA_HOME=$c
      export TIDEMARK_JAVA_HOME
      return 0
    fi
  done
  local candidates=() d
  for d in /usr/lib/jvm/*/; do
    [ -d "$d" ] && candidates+=("${d%/}")
  done
  # newest first: version-sort the names (rare path, so a subprocess is fine here)
  if [ ${#candidates[@]} -gt 0 ]; then
    while IFS= read -r c; do
      if tidemark_java_ok "$c"; then
        TIDEMARK_JAVA_HOME=$c
        export TIDEMARK_JAVA_HOME
        return 0
      fi
    done < <(printf '%s\n' "${candidates[@]}" | sort -rV)
  fi
  if command -v java >/dev/null 2>&1; then
    c=$(readlink -f "$(command -v java)")
    c=${c%/bin/java}
    if tidemark_java_ok "$c"; then
      TIDEMARK_JAVA_HOME=$c
      export TIDEMARK_JAVA_HOME
      return 0
    fi
  fi
  return 1
}
