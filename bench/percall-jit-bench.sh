#!/usr/bin/env bash
# What a per-call JVM (PostgreSQL starts one per WAL segment) spends, under different JIT flags:
# archive-push synchronous (archive-push.async=false) and archive-get without the prefetcher
# (archive-get.prefetch=0), against one local cloud over TLS, for segments of SEG_MB with WAL of
# a table of random text (compresses about as a busy server's WAL). Each JVM is started the way
# bin/tidemark starts it (-Xrs, SerialGC, the zstd library, -jar) plus the variant's flags. Calls
# are interleaved: segment i is pushed by variant i mod V; every segment is then fetched by every
# variant, in an order rotated by i; "start" is archive-get of a segment never archived (the JVM,
# the configuration, one TLS connection and three 404s). Per call: wall and CPU (user+sys) from
# /usr/bin/time, and TIDEMARK_TRACE's phases (ms since the call began): for archive-push the
# compression and SHA-256 (on two threads), for archive-get the object's GET, its decompression
# and its SHA-256. Medians per variant; the load average beside them.
#
#   bench/percall-jit-bench.sh [SEG_MB] [SEGMENTS_PER_VARIANT]        (defaults 16 and 8)
#
# VARIANTS (names, space-separated) picks from the list below; AOT caches trained with other flags
# are made under WORK/aot (or AOT_DIR) by `tidemark aot-train` (as ./mvnw package does for the launcher's).
set -euo pipefail
seg_mb=${1:-16}
per=${2:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(bench_workdir percalljit)
stanza=jit$$
port=${PORT:-55680}
java=${TIDEMARK_JAVA_HOME:-${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}}/bin/java
shim=$root/node-shim/target
jar=$shim/tidemark-node-shim.jar
zstd=$(ls "$shim"/native/linux/amd64/libzstd-jni-*.so 2>/dev/null | head -1)
. "$root/bin/lib/copy-jit.sh"   # the copy commands' flags, as bin/tidemark gives them
tidemark_copy_jit_flags "$root/bin/lib"
directives=("${copy_jit_flags[@]}")
cloud_pid=
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# an AOT cache of `aot-train WHICH` made with FLAGS... (the launcher's caches are made with C1 only)
train() { # OUT WHICH FLAGS...
  local out=$1 which=$2; shift 2
  [ -f "$out" ] || "$java" -XX:AOTCacheOutput="$out" -XX:+UseSerialGC "$@" -Xlog:aot=error,cds=error \
    ${zstd:+-DZstdNativePath=$zstd} -jar "$jar" aot-train "$which" >/dev/null 2>&1
}
# AOT_DIR: caches trained before (jit-push.aot, jit-get.aot for this jar), e.g. outside the bench lock
aot=${AOT_DIR:-$work/aot}
mkdir -p "$aot"
# variant name -> its flags for CMD (push|get); the launcher's own today is c1-aot
flags_of() { # VARIANT CMD
  local c1cache=$shim/tidemark-$2.aot
  case "$1" in
    c1-aot) echo "-XX:TieredStopAtLevel=1 -XX:AOTCache=$c1cache" ;;
    c1) echo "-XX:TieredStopAtLevel=1" ;;
    jit-aot) echo "${directives[*]} -XX:AOTCache=$aot/jit-$2.aot" ;;
    jit-fast-aot) echo "${directives[*]} $SHA_FAST -XX:AOTCache=$aot/jit-$2.aot" ;;
    *) echo "unknown variant $1" >&2; exit 1 ;;
  esac
}
# the SHA-256 loop compiled by C2 after 1 % of the usual invocations and loop turns
SHA_FAST="-XX:CompileCommand=quiet -XX:CompileCommand=CompileThresholdScaling,sun.security.provider.DigestBase::implCompressMultiBlock0,0.01"
read -r -a variants <<< "${VARIANTS:-c1-aot jit-aot jit-fast-aot}"
for w in push get; do train "$aot/jit-$w.aot" "$w" "${directives[@]}"; done

bench_start_cloud "$work" "$stanza"
sed -i '/^archive-push.async=/d; /^archive-get.prefetch=/d' "$conf"
printf 'archive-push.async=false\narchive-get.prefetch=0\n' >> "$conf"
mkdir -p "$work/wal" "$work/got"; chown postgres "$work/wal" "$work/got"
as_pg "$bindir/initdb" -D "$work/data" --wal-segsize="$seg_mb" >/dev/null 2>&1
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='cp %p $work/wal/%f'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres "$root/bin/tidemark" stanza-create --config "$conf" --stanza "$stanza" >/dev/null
psql_ "create table t(v text)" >/dev/null
total=$(( per * ${#variants[@]} ))
# about a segment of rows each (a row of 64 random hex characters is ~110 bytes of WAL), then a switch
rows=$(( seg_mb * 1024 * 1024 / 130 ))
first=$(psql_ "select pg_walfile_name(pg_current_wal_lsn())")
for i in $(seq 1 "$total"); do
  psql_ "insert into t select md5(random()::text) || md5(random()::text) from generate_series(1, $rows)" >/dev/null
  psql_ "select pg_switch_wal()" >/dev/null
done
last=$(psql_ "select pg_walfile_name(pg_switch_wal())")
until [ "$(psql_ "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.5; done
mapfile -t segs < <(cd "$work/wal" && ls | grep -E '^[0-9A-F]{24}$' | awk -v f="$first" '$0 > f' | sort | head -n "$total")
echo "$seg_mb MB segments: ${#segs[@]}, variants: ${variants[*]}, load $(cut -d' ' -f1-3 /proc/loadavg)"

call() { # LOG VARIANT CMD ARGS... -> one line: variant cmd wall_ms cpu_ms rc trace phases
  local log=$1 v=$2 cmd=$3; shift 3
  local t0 rc
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  as_pg env TIDEMARK_TRACE=1 TIDEMARK_TRACE_T0="$t0" /usr/bin/time -f 'TIME %e %U %S' -o "$work/time.txt" \
    "$java" -XX:+UseSerialGC $(flags_of "$v" "$cmd") -Xlog:aot*=off,cds*=off -Xrs ${zstd:+-DZstdNativePath=$zstd} \
    -jar "$jar" "archive-$cmd" --config "$conf" --stanza "$stanza" "$@" 2> "$work/trace.txt" >/dev/null && rc=0 || rc=$?
  local wall=$(( ($(date +%s%N) - t0) / 1000000 ))
  local cpu; cpu=$(awk '/^TIME/ {printf "%d", ($3 + $4) * 1000}' "$work/time.txt")
  local phases; phases=$(awk '/^trace / {p = $2; $1 = $2 = $3 = ""; gsub(/^ +/, ""); sub(/ .*/, ""); printf "%s=%s ", $0, p}' "$work/trace.txt")
  echo "$v $cmd $wall $cpu $rc $phases" >> "$log"
}
log=$work/calls.log
: > "$log"; chmod 666 "$log"
nv=${#variants[@]}
for i in "${!segs[@]}"; do
  call "$log" "${variants[$(( i % nv ))]}" push --pgdata "$work/data" "$work/wal/${segs[$i]}"
done
missing=$(printf '%08X%08X%08X' 1 9 255)
for i in "${!segs[@]}"; do
  for k in $(seq 0 $(( nv - 1 ))); do
    v=${variants[$(( (i + k) % nv ))]}
    call "$log" "$v" get "${segs[$i]}" "$work/got/${segs[$i]}"
    rm -f "$work/got/${segs[$i]}"
    call "$log" "$v" get "$missing" "$work/got/$missing"
  done
done
awk '($2 == "push" && $5 != 0) || ($2 == "get" && $5 > 1)' "$log" | head -3 >&2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# medians per variant and command: wall, CPU, and each trace phase's time since the phase before
awk -v seg="$seg_mb" '
  function med(s,   a, n, t, i, j) { n = split(s, a, " "); for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : "-" }
  { kind = $2; if ($2 == "get" && $5 == 1) kind = "start(miss)"; else if ($5 != 0) next
    k = $1 SUBSEP kind; wall[k] = wall[k] " " $3; cpu[k] = cpu[k] " " $4; n[k]++; keys[k] = 1
    prev = 0; for (i = 6; i <= NF; i++) { split($i, kv, "="); ph[k, kv[1]] = ph[k, kv[1]] " " (kv[2] - prev); prev = kv[2]; if (!((kind, kv[1]) in seen)) { seen[kind, kv[1]] = 1; order[kind] = order[kind] " " kv[1] } } }
  END { for (k in keys) { split(k, kk, SUBSEP); line = sprintf("%-14s %-12s n=%-3d wall %5s ms  cpu %5s ms ", kk[1], kk[2], n[k], med(wall[k]), med(cpu[k]))
          m = split(order[kk[2]], o, " "); for (j = 1; j <= m; j++) if ((k, o[j]) in ph) line = line sprintf(" %s +%s", o[j], med(ph[k, o[j]]))
          print seg " MB  " line } }' "$log" | sort -k3,3 -k2,2
[ -z "${KEEP:-}" ] || echo "calls: $log"
