#!/usr/bin/env bash
# A standby catching up through restore_command, side by side: Tidemark (no restore plan: the
# prefetcher the first archive-get starts, answered from its spool by the launcher) against
# pgBackRest 2.45's synchronous and asynchronous archive-get, from the same local S3 endpoint
# (local-cloud --tls). One primary (initdb --wal-segsize=SEG_MB) archives to both; 3 x RUNS
# standbys are made from one pg_basebackup each while the primary is quiet; the primary then
# writes N segments (one row and a WAL switch each); the standbys then catch up one at a time,
# interleaved (round r runs the three tools in an order rotated by r, so a change in the machine's
# load hits all three alike), each started with only restore_command (no streaming) and timed
# until it has replayed the last row, its rows checked against the primary's, then removed. Every
# restore_command call is timed by a wrapper (per-call p50/p95 of the calls that returned a file,
# over all runs of a tool, and their sum per run: how long PostgreSQL waited in restore_command);
# the 1-minute load average is read at the end of each run. Before each
# Tidemark run no prefetcher is left from the one before (each run starts cold, as after a
# standby restart); pgBackRest's async spool is emptied likewise.
#
#   bench/standby-catchup-bench.sh [N] [SEG_MB] [RUNS]        (defaults 300, 1 and 3)
#
# TM_JAVA_OPTS (no spaces): JAVA_TOOL_OPTIONS for Tidemark's archive-get JVMs and the prefetcher
# they start, in the environment of its standbys' postmasters, e.g.
# -XX:StartFlightRecording=filename=/tmp/p/,settings=profile (a directory: one file per JVM).
# The prefetcher logs where each download's time went (TIDEMARK_PREFETCH_TIMING=1); the means
# over all runs are printed at the end.
set -euo pipefail
n=${1:-300}
seg_mb=${2:-1}
runs=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-standbybench.XXXXXX)
chmod 755 "$work"
# PORT and PORT+1 (the primary, then each standby in turn); unset: the first free pair from
# 55596 on, so that two benches at once (1 MB and 16 MB) do not take the same port
free_port() { # P -> true when nothing listens on 127.0.0.1:P or :P+1
  ! ss -Hltn 2>/dev/null | awk '{print $4}' | grep -Eq "[:.]($1|$(( $1 + 1 )))\$"
}
port=${PORT:-}
if [ -z "$port" ]; then
  for p in $(seq 55596 2 55796); do free_port "$p" && { port=$p; break; }; done
  [ -n "$port" ] || { echo "bench: no free port pair in 55596-55797 (set PORT)" >&2; exit 1; }
fi
stanza=bench$$
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cloud_pid=
cleanup() {
  for d in "$work"/data "$work"/sb-*; do
    [ -d "$d" ] && as_pg "$bindir/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
  stop_prefetcher
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
# the Tidemark prefetcher a run started (its pid file in the spool): ended, so the next run starts cold
stop_prefetcher() {
  local pf="$work/spool/$stanza/prefetch/.pid" pid
  [ -f "$pf" ] && pid=$(cat "$pf" 2>/dev/null) && [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  # it leaves by itself once its standby has stopped (and logs its CPU): up to 5 s for that
  for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || return 0; sleep 0.1; done
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }
psql_() { as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$1" -At -v ON_ERROR_STOP=1 -d postgres -c "$2"; }
secs() { echo "scale=1; ($2 - $1)/1000" | bc; }

. "$root/bench/lib.sh"
bench_start_cloud "$work" "$stanza"
pgbr_conf() { # FILE ASYNC(y/n)
  cat > "$1" <<CONF
[global]
$(bench_pgbackrest_s3_repo "$conf" /pgbackrest)
compress-type=zst
compress-level=1
lock-path=$work/lock
log-path=$work
log-level-console=warn
log-level-file=off
$( [ "$2" = y ] && printf 'archive-async=y\nspool-path=%s\narchive-get-queue-max=256MiB\nprocess-max=2\n' "$work/pgbr-spool" )
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
  chown postgres "$1"
}
pgbr_conf "$work/pgbackrest.conf" n
pgbr_conf "$work/pgbackrest-async.conf" y
mkdir -p "$work/pgbr-spool"; chown postgres "$work/pgbr-spool"
# the timing wrapper: one line per call (ms, exit code, file), appended to LOG
cat > "$work/timed.sh" <<'SH'
#!/usr/bin/env bash
log=$1; shift
t0=$(date +%s%N)
"$@"
rc=$?
echo "$(( ($(date +%s%N) - t0) / 1000000 )) $rc ${@: -2:1}" >> "$log"
exit $rc
SH
chmod 755 "$work/timed.sh"

[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/data" -k --wal-segsize="$seg_mb" >/dev/null 2>&1
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='$root/bin/tidemark archive-push --config $conf --stanza $stanza %p && pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres "$root/bin/tidemark" stanza-create --config "$conf" --stanza "$stanza" >/dev/null
as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null
psql_ "$port" "create table caught(id int primary key)" >/dev/null
wait_archived() {
  local last; last=$(psql_ "$port" "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "$port" "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.5; done
}
wait_archived
# TOOLS: which to run (default all three); tidemark-noflush is Tidemark with the prefetcher's
# flush of each spooled file off (-Dtidemark.prefetch.flush=false), for comparison; tidemark-base
# is the launcher of another built checkout (BASE_ROOT=DIR, e.g. a copy of main): before/after a
# change, interleaved in the same runs
read -r -a tools <<< "${TOOLS:-tidemark pgbr-sync pgbr-async}"
case " ${tools[*]} " in *" tidemark-base "*) [ -x "${BASE_ROOT:-}/bin/tidemark" ] || { echo "bench: tidemark-base needs BASE_ROOT (a built checkout)" >&2; exit 1; } ;; esac
for r in $(seq 1 "$runs"); do
  for t in "${tools[@]}"; do
    d=sb-$t-$r
    as_pg "$bindir/pg_basebackup" -D "$work/$d" -h "$work" -p "$port" -U postgres -X fetch -c fast
    touch "$work/$d/standby.signal"; chown postgres "$work/$d/standby.signal"
    # a standby keeps no more restored WAL than it must (the primary's 4GB would fill the disk)
    echo "max_wal_size=256MB" >> "$work/$d/postgresql.conf"
  done
done
echo "writing $n segments of $seg_mb MB ..."
for i in $(seq 1 "$n"); do echo "insert into caught values ($i); select pg_switch_wal();"; done \
  | as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -q -At -d postgres >/dev/null
wait_archived
# wait until the catalog has indexed the last segment (Tidemark's archive-get reads S3 only, but
# the stanza's segment size comes from the catalog)
sleep 3

catch_up() { # DIR PORT RESTORE_COMMAND LOG [VAR=VALUE...] -> seconds until the last row is replayed
  local t0 t1 vars=("${@:5}")
  cat >> "$1/postgresql.conf" <<CONF
restore_command='$work/timed.sh $4 $3'
archive_mode=off
CONF
  t0=$(ms)
  as_pg env "${vars[@]}" "$bindir/pg_ctl" -D "$1" -l "$1.log" -o "-p $2 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" -w -t 900 start >/dev/null
  # caught up: the last row is replayed (the primary's insert position after its last switch lies
  # past the page header of a segment that is never completed, so an LSN cannot be the mark)
  until [ "$(psql_ "$2" "select count(*) from caught" 2>/dev/null)" = "$n" ]; do sleep 0.1; done
  t1=$(ms)
  [ "$(psql_ "$2" "select sum(id) from caught")" = "$(( n * (n + 1) / 2 ))" ] || { echo "$1: rows differ" >&2; exit 1; }
  as_pg "$bindir/pg_ctl" -D "$1" -m fast stop >/dev/null
  secs "$t0" "$t1"
}
pct() { # P FILES... -> the P-th percentile (ms) of calls that returned a file
  local p=$1; shift
  cat "$@" | awk '$2 == 0 {print $1}' | sort -n | awk -v p="$p" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
command_of() { # TOOL DIR -> its restore_command (%f %p left to PostgreSQL); pgBackRest wants the standby's own pg1-path
  case "$1" in
    tidemark|tidemark-noflush) echo "$root/bin/tidemark archive-get --config $conf --stanza $stanza %f %p" ;;
    tidemark-w16) echo "$root/bin/tidemark archive-get --config $work/tidemark-w16.conf --stanza $stanza %f %p" ;;
    tidemark-base) echo "$BASE_ROOT/bin/tidemark archive-get --config $conf --stanza $stanza %f %p" ;;
    pgbr-sync) echo "pgbackrest --config=$work/pgbackrest.conf --stanza=main --pg1-path=$2 archive-get %f %p" ;;
    pgbr-async) echo "pgbackrest --config=$work/pgbackrest-async.conf --stanza=main --pg1-path=$2 archive-get %f %p" ;;
  esac
}
# TOOL -> the environment its standby's postmaster starts with (restore_command inherits it): an
# `env` in restore_command would cost Tidemark's calls an exec pgBackRest's do not pay
env_of() {
  local jto=${TM_JAVA_OPTS:-}
  case "$1" in
    tidemark) echo "TIDEMARK_LAUNCH_LOG=$work/launch.log TIDEMARK_PREFETCH_TIMING=1${jto:+ JAVA_TOOL_OPTIONS=$jto}" ;;
    tidemark-base) echo "TIDEMARK_LAUNCH_LOG=$work/launch-base.log TIDEMARK_PREFETCH_TIMING=1${jto:+ JAVA_TOOL_OPTIONS=$jto}" ;;
    tidemark-noflush) echo "TIDEMARK_LAUNCH_LOG=$work/launch.log TIDEMARK_PREFETCH_TIMING=1 JAVA_TOOL_OPTIONS=-Dtidemark.prefetch.flush=false" ;;
    tidemark-w16) echo "TIDEMARK_LAUNCH_LOG=$work/launch-w16.log TIDEMARK_PREFETCH_TIMING=1${jto:+ JAVA_TOOL_OPTIONS=$jto}" ;;
    *) echo "TIDEMARK_BENCH_TOOL=$1" ;;
  esac
}
: > "$work/launch.log"; : > "$work/launch-base.log"; : > "$work/launch-w16.log"
chmod 666 "$work/launch.log" "$work/launch-base.log" "$work/launch-w16.log"
# tidemark-w16: Tidemark with a look-ahead of 16 segments (archive-get.prefetch=16; the window is
# also bounded by archive-get.spool-max-mb, 256: 16 x 16 MB, pgBackRest async's queue here)
{ cat "$conf"; echo "archive-get.prefetch=16"; } > "$work/tidemark-w16.conf"; chown postgres "$work/tidemark-w16.conf" 2>/dev/null || true
declare -A totals loads insides
# BENCH_LOCK=FILE: hold that lock (flock) for the timed runs only; the set-up above ran without it
if [ -n "${BENCH_LOCK:-}" ]; then
  exec {bench_lock_fd}>>"$BENCH_LOCK"
  echo "waiting for $BENCH_LOCK ..."
  flock "$bench_lock_fd"
fi
echo "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$runs"); do
  for k in "${!tools[@]}"; do
    t=${tools[$(( (k + r - 1) % ${#tools[@]} ))]}
    log="$work/calls-$t-$r.log"; : > "$log"; chmod 666 "$log"
    stop_prefetcher
    rm -rf "$work/pgbr-spool/archive"
    read -r -a envs <<< "$(env_of "$t")"
    secs_=$(catch_up "$work/sb-$t-$r" $((port + 1)) "$(command_of "$t" "$work/sb-$t-$r")" "$log" "${envs[@]}")
    load=$(cut -d' ' -f1 /proc/loadavg)
    # how long PostgreSQL waited in restore_command in all (the rest is its own start and replay),
    # and its first call (a JVM for Tidemark, which starts the prefetcher)
    inside=$(awk '{s += $1} END {printf "%.1f", s / 1000}' "$log")
    first=$(awk '$2 == 0 {print $1; exit}' "$log")
    call1=$(awk 'NR == 1 {print $1 " ms, exit " $2; exit}' "$log")
    totals[$t]="${totals[$t]:-} $secs_"; loads[$t]="${loads[$t]:-} $load"; insides[$t]="${insides[$t]:-} $inside"
    echo "round $r $t: ${secs_} s, $(wc -l < "$log") calls, ${inside} s in restore_command (first call ${call1}; first file ${first} ms), load $load"
    stop_prefetcher
    # the prefetcher's log of this run, kept per tool (its timing lines are summed below)
    mv "$work/spool/$stanza/prefetch/prefetch.log" "$work/prefetch-$t-$r.log" 2>/dev/null || true
    rm -rf "$work/sb-$t-$r"
  done
done

echo "N=$n segments of $seg_mb MB, $runs interleaved runs each; load = 1-minute load average at the end of each run"
printf '%-18s %10s %-24s %-20s %8s %10s %10s %-18s\n' tool "median (s)" "runs (s)" "in restore_command" calls "p50 (ms)" "p95 (ms)" load
for t in "${tools[@]}"; do
  name=$t; case $t in pgbr-sync) name=pgbackrest-sync ;; pgbr-async) name=pgbackrest-async ;; esac
  # shellcheck disable=SC2086
  printf '%-18s %10s %-24s %-20s %8s %10s %10s %-18s\n' "$name" "$(median ${totals[$t]})" "${totals[$t]# }" "${insides[$t]# }" \
    "$(( $(cat "$work"/calls-$t-[0-9]*.log | wc -l) / runs ))" "$(pct 50 "$work"/calls-$t-[0-9]*.log)" "$(pct 95 "$work"/calls-$t-[0-9]*.log)" "${loads[$t]# }"
done
for t in "${tools[@]}"; do
  case $t in tidemark-base) ll=$work/launch-base.log ;; tidemark-w16) ll=$work/launch-w16.log ;; tidemark*) ll=$work/launch.log ;; *) continue ;; esac
  [ "$t" = tidemark-noflush ] && continue # shares tidemark's launch log
  echo "$t: $(grep -c '^fast archive-get' "$ll") calls answered by the launcher, $(grep -c '^jvm archive-get' "$ll") archive-get JVMs over $runs runs"
  # PostgreSQL caught up with the prefetcher: launcher calls that found the segment still downloading
  # and waited for it (naps=N: N naps of 10 ms), or found neither file nor download and asked the
  # prefetcher to fetch it (asked=1), against those served at once from the spool
  awk '/^fast archive-get [0-9A-F]+ naps=/ { split($4, kv, "="); split($5, ak, "=")
      if (ak[2] == 1) a++; else if (kv[2] > 0) { w++; s += kv[2] } else r++ }
    END { printf "  launcher: %d segment calls served at once from the spool, %d waited for a download under way (%.1f s in all, naps of ~10 ms), %d asked the prefetcher for a segment it had not begun\n", r, w, s / 100, a }' "$ll"
  # the prefetcher's timing lines: mean ms per download of each step, over all runs
  # the CPU each run's prefetcher used in all (its last line: "left: N segments fetched, CPU M ms")
  echo "  prefetcher CPU per run (ms): $(cat "$work"/prefetch-$t-[0-9]*.log 2>/dev/null | awk '/ left: .* CPU [0-9]+ ms/ {printf "%s ", $(NF-1)}')"
  cat "$work"/prefetch-$t-[0-9]*.log 2>/dev/null | awk '/ timing / { n++; for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[2] ~ /^[0-9]+$/) s[kv[1]] += kv[2] }
    END { if (n) printf "  prefetcher, mean per download (ms) over %d: total %.0f, open (GET to headers) %.0f, network %.0f, decompress %.0f, sha-256 %.0f, write %.0f, fsync+rename %.0f; stored %.0f B, raw %.0f B\n", n, s["total"]/n, s["open"]/n, s["network"]/n, s["decompress"]/n, s["sha"]/n, s["write"]/n, s["finish"]/n, s["stored"]/n, s["raw"]/n }'
done
