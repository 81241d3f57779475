#!/usr/bin/env bash
# Block-level incrementals (issue 16) on a local S3 endpoint (local-cloud --tls), zstd level 1,
# two processes.
#
# pgBackRest is not run: the local cloud enforces the stack's bucket policy, which refuses any PUT
# without If-None-Match under the bucket (pgBackRest 2.45 writes archive.info and backup.info
# unconditionally: 403). The file-level figure is computed instead from the manifests: what the
# incremental would store if every file it stores were stored whole, as the full stored it
# (the full's stored size of that path; a new file's own stored size).
#
# pgbench at SCALE; a full backup by each tool; then INCRS times: 1 % of pgbench_accounts' rows
# updated (MODE=range: one contiguous range of aid, a different one each time; MODE=random: every
# 100th aid, shifted each time, which touches most pages), checkpoint, an incremental by each tool.
# Reported per incremental: bytes stored (its backup directory in the bucket, manifest included),
# the file-level figure, the backup time and the shim's peak RSS.
# Then restore times (the restore command: files only, no WAL replay), interleaved, RUNS times
# each: through the chain (full + INCRS incrementals) vs a new full of the same data; and the
# shim's peak RSS during each.
#
#   bench/incr-bench.sh [SCALE] [INCRS]        (defaults 100 and 5)
#   MODE=random RUNS=3 bench/incr-bench.sh 10 5
#   FILLFACTOR=90 ...   pgbench -i -F 90: room in every page, so an update stays in its page (HOT);
#                       with pgbench's default 100 the new row versions go wherever the free space
#                       map finds a gap, which after a VACUUM is most pages of the table
#   HEAP=256m ...       the shim's Java heap limit for backup and restore (JAVA_TOOL_OPTIONS=-Xmx)
set -euo pipefail
scale=${1:-100}
incrs=${2:-5}
mode=${MODE:-range}
fillfactor=${FILLFACTOR:-100}
heap=${HEAP:-256m}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-incrbench.XXXXXX)
chmod 755 "$work"
port=${PORT:-55493}
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

. "$root/bench/lib.sh"
bench_start_cloud "$work" "$stanza"
bucket="$work/cloud/s3/$(sed -n 's/^s3.bucket=//p' "$conf")"

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
echo "pgbench -i -s $scale ..."
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -i -s "$scale" -F "$fillfactor" -q postgres >/dev/null 2>&1
psql_ "vacuum freeze" >/dev/null; psql_ "checkpoint" >/dev/null
wait_archived() {
  local last; last=$(psql_ "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.5; done
}
wait_archived
echo "database: $(psql_ "select pg_size_pretty(pg_database_size('postgres'))") (pgbench scale $scale, fillfactor $fillfactor), mode $mode, heap $heap"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 2.1 # files older than the referencing margin of the full

newest_dir() { ls -1t "$1" | grep -v -e '^backup.info' -e '^latest$' -e '^backup.history' | head -1; }
bytes() { du -sb "$1" | cut -f1; }
rss_of() { sed -n 's/^maxrss_kb=//p' "$1"; }
# the newest backup valid: the next one is then an incremental of it (without a valid prior,
# `backup --type incr` takes a full)
wait_valid() {
  until tm info --output json | python3 -c 'import json,sys; b=json.load(sys.stdin)["backups"]; sys.exit(0 if b and b[-1]["status"] == "valid" else 1)'; do sleep 1; done
}
timed_tm() { # out-file, args...: runs the shim under /usr/bin/time, prints seconds
  local t0 t1 out=$1; shift
  t0=$(ms)
  /usr/bin/time -f 'maxrss_kb=%M' -o "$out.rss" env JAVA_TOOL_OPTIONS="-Xmx$heap" PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" \
    runuser -u postgres -- "$root/bin/tidemark" "$@" --config "$conf" --stanza "$stanza" > "$out" 2>&1 \
    || { echo "failed: $*"; tail -20 "$out"; exit 1; }
  t1=$(ms)
  secs "$t0" "$t1"
}

# file_level FULL_DIR INCR_DIR: bytes the incr would store with whole files (see the header)
file_level() {
  python3 - "$1/manifest.json" "$2/manifest.json" <<'PY'
import json, sys
full = {f["path"]: f["storedSize"] for f in json.load(open(sys.argv[1]))["files"]}
m = json.load(open(sys.argv[2]))
print(sum(full.get(f["path"], f["storedSize"]) for f in m["files"] if f["reference"] == m["label"]))
PY
}
t=$(timed_tm "$work/tm-full.out" backup --type full --process-max 2)
wait_valid
full_dir="$bucket/$stanza/backup/$(newest_dir "$bucket/$stanza/backup")"
tm_full=$(bytes "$full_dir")
printf '%-8s %14s %16s %8s %s\n' backup "stored bytes" "file-level bytes" "ratio" "backup time / peak RSS"
printf '%-8s %14s %16s %8s %s\n' full "$tm_full" "-" "-" "$t s / $(( $(rss_of "$work/tm-full.out.rss") / 1024 )) MB"
grep -E 'phases|stored' "$work/tm-full.out" | sed 's/^/    /'

rows=$(( scale * 100000 ))
one=$(( rows / 100 ))
for i in $(seq 1 "$incrs"); do
  if [ "$mode" = random ]; then
    psql_ "update pgbench_accounts set abalance = abalance + 1 where aid % 100 = $i" >/dev/null
  else
    lo=$(( (i - 1) * (rows / incrs) + 1 ))
    psql_ "update pgbench_accounts set abalance = abalance + 1 where aid between $lo and $(( lo + one - 1 ))" >/dev/null
  fi
  psql_ "checkpoint" >/dev/null
  sleep 2.1
  t=$(timed_tm "$work/tm-incr$i.out" backup --type incr --process-max 2)
  wait_valid
  grep -q "(incr)" "$work/tm-incr$i.out" || { echo "incr $i was not an incremental:"; cat "$work/tm-incr$i.out"; exit 1; }
  incr_dir="$bucket/$stanza/backup/$(newest_dir "$bucket/$stanza/backup")"
  tm_b=$(bytes "$incr_dir")
  fl=$(file_level "$full_dir" "$incr_dir")
  printf '%-8s %14s %16s %8s %s\n' "incr $i" "$tm_b" "$fl" "$(echo "scale=3; $tm_b / $fl" | bc)" "$t s / $(( $(rss_of "$work/tm-incr$i.out.rss") / 1024 )) MB"
  grep -E 'phases' "$work/tm-incr$i.out" | sed 's/^/    /'
done

# restore through the chain (target before the second full) vs the second full (target after it)
psql_ "create table mark1 as select 1 as x" >/dev/null
t_chain=$(psql_ "select clock_timestamp()")
sleep 1
psql_ "create table mark2 as select 2 as x" >/dev/null
t=$(timed_tm "$work/tm-full2.out" backup --type full --process-max 2)
wait_valid
sleep 1
t_full=$(psql_ "select clock_timestamp()")
sleep 1
psql_ "create table mark3 as select 3 as x" >/dev/null
wait_archived
until tm info --output json | grep -q '"latest"'; do sleep 1; done
sleep 5

restore_once() { # name target -> "seconds rss_mb"
  local d="$work/restore-$1" s
  rm -rf "$d"; mkdir -p "$d"; chown postgres "$d"; chmod 700 "$d"
  s=$(timed_tm "$work/restore-$1.out" restore --pgdata "$d" --target-time "$2" --process-max 2)
  echo "$s $(( $(rss_of "$work/restore-$1.out.rss") / 1024 ))"
  rm -rf "$d"
}
chain_s=(); full_s=()
for r in $(seq 1 "$runs"); do
  read -r s m < <(restore_once chain "$t_chain"); chain_s+=("$s"); chain_m=$m
  read -r s m < <(restore_once full "$t_full"); full_s+=("$s"); full_m=$m
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
grep -o 'backup [^ ]*' "$work/restore-chain.out" | head -1
echo "restore (files) through full + $incrs incrs: runs ${chain_s[*]} s, median $(median "${chain_s[@]}") s, peak RSS $chain_m MB"
echo "restore (files) of a full:                   runs ${full_s[*]} s, median $(median "${full_s[@]}") s, peak RSS $full_m MB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
