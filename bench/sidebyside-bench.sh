#!/usr/bin/env bash
# Tidemark and pgBackRest 2.45 side by side on one pgbench database and one local S3 endpoint
# (local-cloud --tls; pgBackRest in the cloud's comparison bucket), zstd level 1, two processes
# each, runs interleaved (Tidemark, pgBackRest, Tidemark, ...) so both see the same load:
#
#   1. RUNS full backups by each tool: wall time, peak RSS, S3 requests;
#   2. RUNS file restores of each tool's newest full (the restore command only, no WAL replay);
#   3. INCRS times: 1 % of pgbench_accounts' rows updated (one contiguous aid range each time),
#      checkpoint, an incremental by each tool: bytes stored, wall time, S3 requests (pgBackRest's
#      is file-level unless PGBR_BLOCK=1);
#   4. RUNS file restores through each tool's chain (full + INCRS incrementals), interleaved with
#      Tidemark's restore of a full of the same data.
#
# Requests are counted at the endpoint: the cloud runs with COUNT_REQUESTS=1 (bench/lib.sh), one
# log line per S3 request; Tidemark's WAL (<stanza>/wal/ keys: archive-push, the indexer, the
# restore's WAL prefetcher) is left out of the counts, the cloud's validation of a new backup is
# not. With KEEP=1, bench/count-requests.py WORK splits them per command (node, validation, WAL).
# Peak RSS is GNU time's %M (for pgBackRest the largest of its processes), CPU its %U + %S (the
# command and the processes it waited for: pgBackRest's local workers; not Tidemark's WAL
# prefetcher, which a restore leaves running).
#
#   bench/sidebyside-bench.sh [SCALE] [INCRS]       (defaults 100 and 5; INCRS 0 stops after step 2)
#   RUNS=3 FILLFACTOR=90 HEAP=256m TIDEMARK_ROOT=DIR (the checkout whose bin/tidemark runs)
#   TM_JAVA_OPTS="..."  more JVM options for Tidemark's backups and restores (e.g. -XX:StartFlightRecording=...)
#   BASE_ROOT=DIR   also backs up and restores with another build (before/after), interleaved: each
#                   round starts with its full backup (so the newest full stays this build's), its
#                   restores target the time after its last full (its own backup); at the end this
#                   build restores that backup once (a backup of the other build's manifest format)
#   PROBE=1         at the end, one thread's cost per step on the largest file (bench/CopyCostProbe.java)
#   HOLD=1          after loading the database, write WORK/env.sh (this script's variables and functions:
#                   `. WORK/env.sh; tmb NAME backup --type full --process-max 2` times one command as the
#                   steps below do) and wait until WORK/hold is removed; then the steps run as usual.
#                   For profiling and A/B runs on one cluster and cloud.
#   PGBR_BLOCK=1    pgBackRest with beta=y, repo1-bundle=y and repo1-block=y: its block incremental (beta
#                   in 2.45, off by default; block incremental needs bundling)
set -euo pipefail
scale=${1:-100}
incrs=${2:-5}
runs=${RUNS:-3}
fillfactor=${FILLFACTOR:-90}
heap=${HEAP:-256m}
root=${TIDEMARK_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
bench=$(cd "$(dirname "$0")" && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-sidebyside.XXXXXX)
chmod 755 "$work"
port=${PORT:-55489}
stanza=bench$$
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cloud_pid=
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { echo "scale=1; ($2 - $1)/1000" | bc; }
psql_() { as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
tm() { as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" "$root/bin/tidemark" "$@" --config "$conf" --stanza "$stanza"; }
load() { cut -d' ' -f1 /proc/loadavg; }

COUNT_REQUESTS=1
. "$bench/lib.sh"
# lib.sh finds the logback file and bin/tidemark under $root
[ -f "$root/bench/s3-requests-logback.xml" ] || cp "$bench/s3-requests-logback.xml" "$root/bench/" 2>/dev/null || true
bench_start_cloud "$work" "$stanza"
bucket_name=$(sed -n 's/^s3.bucket=//p' "$conf")
bucket="$work/cloud/s3/$bucket_name"

cat > "$work/pgbackrest.conf" <<CONF
[global]
$(bench_pgbackrest_s3_repo "$conf" /pgbackrest)
compress-type=zst
compress-level=1
process-max=2
start-fast=y
archive-check=n
$( [ -n "${PGBR_BLOCK:-}" ] && printf 'beta=y\nrepo1-bundle=y\nrepo1-block=y\n' )
lock-path=$work/lock
log-path=$work
log-level-console=warn
log-level-file=off
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
chown postgres "$work/pgbackrest.conf"

[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/data" -k >/dev/null 2>&1
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='$root/bin/tidemark archive-push --config $conf --stanza $stanza %p'
max_wal_size=8GB
checkpoint_timeout=30min
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
tm stanza-create >/dev/null
as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null
echo "pgbench -i -s $scale -F $fillfactor ..."
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -i -s "$scale" -F "$fillfactor" -q postgres >/dev/null 2>&1
psql_ "vacuum freeze" >/dev/null; psql_ "checkpoint" >/dev/null
wait_archived() {
  local last; last=$(psql_ "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.5; done
}
wait_archived
echo "database: $(psql_ "select pg_size_pretty(pg_database_size('postgres'))"); largest file: $(psql_ "select pg_relation_filepath('pgbench_accounts')") $(du -b "$work/data/$(psql_ "select pg_relation_filepath('pgbench_accounts')")" | cut -f1) bytes"
sleep 2.1

wait_valid() {
  until tm info --output json | python3 -c 'import json,sys; b=json.load(sys.stdin)["backups"]; sys.exit(0 if b and b[-1]["status"] == "valid" else 1)'; do sleep 1; done
}
# timed NAME BUCKET CMD...: runs CMD under /usr/bin/time; prints "seconds rss_mb requests load"
timed() {
  local name=$1 bkt=$2 t0 t1 mark l; shift 2
  mark=$(bench_mark "$work"); l=$(load)
  t0=$(ms)
  /usr/bin/time -f '%M %U %S' -o "$work/$name.rss" "$@" > "$work/$name.out" 2>&1 || { echo "failed: $name"; tail -20 "$work/$name.out"; exit 1; }
  t1=$(ms)
  sleep 0.5 # the cloud's log line of the last request
  bench_requests "$work" "$mark" "$bkt" /wal/ > "$work/$name.req"
  read -r kb user sys < <(tail -1 "$work/$name.rss")
  echo "$(secs "$t0" "$t1") $(( kb / 1024 )) $(cut -d' ' -f1 "$work/$name.req") $l $(echo "$user + $sys" | bc)"
}
tmb() { timed "$1" "$bucket_name" env JAVA_TOOL_OPTIONS="-Xmx$heap ${TM_JAVA_OPTS:-}" PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" \
  runuser -u postgres -- "$root/bin/tidemark" "${@:2}" --config "$conf" --stanza "$stanza"; }
# the same with BASE_ROOT's build (no TM_JAVA_OPTS)
baseb() { timed "$1" "$bucket_name" env JAVA_TOOL_OPTIONS="-Xmx$heap" PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" \
  runuser -u postgres -- "$BASE_ROOT/bin/tidemark" "${@:2}" --config "$conf" --stanza "$stanza"; }
pbb() { timed "$1" pgbackrest runuser -u postgres -- pgbackrest --config="$work/pgbackrest.conf" --stanza=main "${@:2}"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
row() { printf '%-44s %-24s %8s %8s %9s %s\n' "$@"; }
row "what" "tool" "median s" "RSS MB" "requests" "runs (s) / load average at each start / CPU s (user+sys) of each"

report() { # label tool results...
  local label=$1 tool=$2 s=() r=() q=() l=() u=() x; shift 2
  for x in "$@"; do read -r a b c d e <<< "$x"; s+=("$a"); r+=("$b"); q+=("$c"); l+=("$d"); u+=("$e"); done
  row "$label" "$tool" "$(median "${s[@]}")" "$(median "${r[@]}")" "$(median "${q[@]}")" "${s[*]} / ${l[*]} / ${u[*]}"
}

if [ -n "${HOLD:-}" ]; then
  { declare -p work port conf stanza root bindir heap bucket_name bucket bench; declare -f; } > "$work/env.sh"
  touch "$work/hold"
  echo "holding: . $work/env.sh; rm $work/hold to go on"
  while [ -e "$work/hold" ]; do sleep 2; done
fi
# 1. full backups
tm_full=(); pb_full=(); base_full=(); t_base=
for i in $(seq 1 "$runs"); do
  if [ -n "${BASE_ROOT:-}" ]; then
    base_full+=("$(baseb base-full$i backup --type full --process-max 2)"); wait_valid
    sleep 1.1; t_base=$(psql_ "select clock_timestamp()"); sleep 1.1
    psql_ "create table base_mark$i as select $i as x" >/dev/null # a commit after the target: it is reachable
  fi
  tm_full+=("$(tmb tm-full$i backup --type full --process-max 2)"); wait_valid
  pb_full+=("$(pbb pb-full$i --type=full backup)")
done
report "full backup" tidemark "${tm_full[@]}"
report "full backup" "pgbackrest 2.45" "${pb_full[@]}"
[ -n "${BASE_ROOT:-}" ] && report "full backup" "tidemark, BASE_ROOT" "${base_full[@]}"
echo "    requests of the last run: tidemark $(cat "$work/tm-full$runs.req"); pgbackrest $(cat "$work/pb-full$runs.req")"
grep -E 'phases|stored' "$work/tm-full$runs.out" | sed 's/^/    tidemark: /'
newest_dir() { ls -1t "$1" | grep -v -e '^backup.info' -e '^latest$' -e '^backup.history' | head -1; }
echo "    stored by one full: tidemark $(du -sb "$bucket/$stanza/backup/$(newest_dir "$bucket/$stanza/backup")" | cut -f1) bytes, pgbackrest $(du -sb "$work/cloud/s3/pgbackrest/pgbackrest/backup/main/$(newest_dir "$work/cloud/s3/pgbackrest/pgbackrest/backup/main")" | cut -f1) bytes"

# 2. file restores of the newest full
wait_archived
until tm info --output json | grep -q '"latest"'; do sleep 1; done
restore_dir() { rm -rf "$work/r"; mkdir -p "$work/r"; chown postgres "$work/r"; chmod 700 "$work/r"; }
t_full=$(psql_ "select clock_timestamp()")
tm_rs=(); pb_rs=(); base_rs=()
for i in $(seq 1 "$runs"); do
  restore_dir; tm_rs+=("$(tmb tm-restore$i restore --pgdata "$work/r" --process-max 2)")
  restore_dir; pb_rs+=("$(pbb pb-restore$i --pg1-path="$work/r" restore)")
  if [ -n "${BASE_ROOT:-}" ]; then
    restore_dir; base_rs+=("$(baseb base-restore$i restore --pgdata "$work/r" --target-time "$t_base" --process-max 2)")
  fi
done
report "file restore of a full" tidemark "${tm_rs[@]}"
report "file restore of a full" "pgbackrest 2.45" "${pb_rs[@]}"
if [ -n "${BASE_ROOT:-}" ]; then
  report "file restore of a full" "tidemark, BASE_ROOT" "${base_rs[@]}"
  restore_dir; report "file restore of BASE_ROOT's full" tidemark "$(tmb tm-restore-base restore --pgdata "$work/r" --target-time "$t_base" --process-max 2)"
  grep -o 'backup [0-9F_I-]*' "$work/tm-restore-base.out" | head -1 | sed 's/^/    this build restored BASE_ROOT'"'"'s /'
fi
echo "    requests of the last run: tidemark $(cat "$work/tm-restore$runs.req"); pgbackrest $(cat "$work/pb-restore$runs.req")"
[ "$incrs" -gt 0 ] || { echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"; exit 0; } # INCRS=0: full backup and file restore only

# 3. incrementals after 1 % of the rows changed
rows=$(( scale * 100000 )); one=$(( rows / 100 ))
for i in $(seq 1 "$incrs"); do
  lo=$(( (i - 1) * (rows / incrs) + 1 ))
  psql_ "update pgbench_accounts set abalance = abalance + 1 where aid between $lo and $(( lo + one - 1 ))" >/dev/null
  psql_ "checkpoint" >/dev/null
  sleep 2.1
  ti=$(tmb tm-incr$i backup --type incr --process-max 2); wait_valid
  grep -q "(incr)" "$work/tm-incr$i.out" || { echo "incr $i was not an incremental:"; cat "$work/tm-incr$i.out"; exit 1; }
  tb=$(du -sb "$bucket/$stanza/backup/$(newest_dir "$bucket/$stanza/backup")" | cut -f1)
  pi=$(pbb pb-incr$i --type=incr backup)
  pd=$(newest_dir "$work/cloud/s3/pgbackrest/pgbackrest/backup/main")
  case "$pd" in *I) ;; *) echo "pgbackrest incr $i is $pd"; exit 1;; esac
  pbytes=$(du -sb "$work/cloud/s3/pgbackrest/pgbackrest/backup/main/$pd" | cut -f1)
  row "incr $i: stored tidemark $tb, pgbackrest $pbytes bytes" tidemark "${ti%% *}" "$(echo "$ti" | cut -d' ' -f2)" "$(echo "$ti" | cut -d' ' -f3)" "load $(echo "$ti" | cut -d' ' -f4), CPU $(echo "$ti" | cut -d' ' -f5) s"
  echo "    requests: tidemark $(cat "$work/tm-incr$i.req"); pgbackrest $(cat "$work/pb-incr$i.req")"
  row "" "pgbackrest 2.45" "${pi%% *}" "$(echo "$pi" | cut -d' ' -f2)" "$(echo "$pi" | cut -d' ' -f3)" "load $(echo "$pi" | cut -d' ' -f4), CPU $(echo "$pi" | cut -d' ' -f5) s"
done

# 4. restores through the chains, and Tidemark's restore of a full of the same data
psql_ "create table mark1 as select 1 as x" >/dev/null
t_chain=$(psql_ "select clock_timestamp()")
sleep 1
tmb tm-full-last backup --type full --process-max 2 >/dev/null; wait_valid
sleep 1
t_last=$(psql_ "select clock_timestamp()")
sleep 1
psql_ "create table mark2 as select 2 as x" >/dev/null
wait_archived
until tm info --output json | grep -q '"latest"'; do sleep 1; done
sleep 3
chain_set=$(newest_dir "$work/cloud/s3/pgbackrest/pgbackrest/backup/main")
tc=(); tf=(); pc=()
for i in $(seq 1 "$runs"); do
  restore_dir; tc+=("$(tmb tm-chain$i restore --pgdata "$work/r" --target-time "$t_chain" --process-max 2)")
  restore_dir; pc+=("$(pbb pb-chain$i --pg1-path="$work/r" --set="$chain_set" restore)")
  restore_dir; tf+=("$(tmb tm-fullr$i restore --pgdata "$work/r" --target-time "$t_last" --process-max 2)")
done
grep -o 'backup [^ ]*' "$work/tm-chain1.out" | head -1 | sed 's/^/    tidemark chain: /'
report "file restore through full + $incrs incrs" tidemark "${tc[@]}"
report "file restore through full + $incrs incrs" "pgbackrest 2.45" "${pc[@]}"
report "file restore of a full, same data" tidemark "${tf[@]}"
echo "    requests of the last run: tidemark chain $(cat "$work/tm-chain$runs.req"), full $(cat "$work/tm-fullr$runs.req"); pgbackrest chain $(cat "$work/pb-chain$runs.req")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${PROBE:-}" ]; then # one thread's cost per step on the largest relation file (bench/CopyCostProbe.java)
  java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
  "$java" -Xmx3g -cp "$root/node-shim/target/tidemark-node-shim.jar" "$bench/CopyCostProbe.java" \
    "$work/data/$(psql_ "select pg_relation_filepath('pgbench_accounts')")" 3 2>/dev/null
fi
