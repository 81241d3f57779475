#!/usr/bin/env bash
# Synchronous archiving of one WAL burst, pgBackRest vs Tidemark, on the same machine and data.
#
#   bench/archive-bench.sh pgbackrest            pgBackRest 2.45, archive-push sync, lz4, posix repo
#   bench/archive-bench.sh pgbackrest-s3 CONF    the same to the S3 endpoint of CONF (a local-cloud --tls)
#   bench/archive-bench.sh tidemark CONF         tidemark archive-push sync (archive-push.async=false, zstd) to the
#                                                local cloud whose tidemark.conf is CONF
#
# A throwaway cluster (16 MB segments) runs CREATE TABLE AS over generate_series, producing about
# BURST_MB of WAL (default 320). archive_command is wrapped by a tiny timer that logs each call's
# wall time. Reported: WAL generation time, archive completion time (from burst start until
# pg_stat_archiver has archived the last segment), and per-call latency percentiles.
set -euo pipefail
tool=${1:?usage: archive-bench.sh pgbackrest|tidemark [CONF]}
conf=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
work=$(bench_workdir archbench)
port=${PORT:-55498}
burst_mb=${BURST_MB:-320}
cleanup() { as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

case "$tool" in
  pgbackrest|pgbackrest-s3)
    if [ "$tool" = pgbackrest ]; then
      repo="repo1-path=$work/repo"
    else
      [ -n "$conf" ] || { echo "pgbackrest-s3 needs a local-cloud --tls tidemark.conf" >&2; exit 2; }
      repo=$(bench_pgbackrest_s3_repo "$conf" /pgbackrest-$$)
    fi
    bench_pgbackrest_conf "$work" "$port" "$repo
compress-type=lz4
archive-async=n" > "$work/pgbackrest.conf"
    chown postgres "$work/pgbackrest.conf"
    real="pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p"
    tool=pgbackrest
    ;;
  tidemark)
    [ -n "$conf" ] || { echo "tidemark needs the local cloud's tidemark.conf" >&2; exit 2; }
    stanza="bench$$"
    # synchronous (the default is asynchronous), as a node of this run's stanza (the local cloud
    # enforces the stack's IAM; its conf names stanza main's node)
    bench_node_conf "$conf" "$stanza" > "$work/tidemark.conf"
    mkdir -p "$work/spool"; chown postgres "$work/spool"
    printf 'spool.dir=%s\narchive-push.async=false\n' "$work/spool" >> "$work/tidemark.conf"
    chown postgres "$work/tidemark.conf"
    real="$root/bin/tidemark archive-push --config $work/tidemark.conf --stanza $stanza %p"
    ;;
  *) echo "unknown tool $tool" >&2; exit 2 ;;
esac

# The timer: one line per call, "<nanoseconds> <exit code>".
cat > "$work/timed.sh" <<'TIMER'
#!/bin/bash
t0=$(date +%s%N)
"$@"
rc=$?
echo "$(( $(date +%s%N) - t0 )) $rc" >> "$(dirname "$0")/calls.log"
exit $rc
TIMER
chmod 755 "$work/timed.sh"; touch "$work/calls.log"; chown postgres "$work/calls.log"
bench_archiving_cluster "$work" "$port" "$work/timed.sh $real"

case "$tool" in
  pgbackrest) as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null ;;
  tidemark) bench_tidemark_stanza_create "$work" "$port" "$work/tidemark.conf" "$stanza" ;;
esac
psql_ "select pg_switch_wal()" >/dev/null
sleep 2
: > "$work/calls.log"

rows=$(( burst_mb * 1024 * 1024 / 100 ))   # about 100 bytes of WAL per row (measured: heap insert records)
t0=$(date +%s%N)
psql_ "create table burst as select g as id, md5(g::text) as v from generate_series(1, $rows) g" >/dev/null
t_gen=$(date +%s%N)
last=$(psql_ "select pg_walfile_name(pg_switch_wal())")
until [ "$(psql_ "select coalesce(last_archived_wal, '') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.05; done
t_done=$(date +%s%N)
failed=$(psql_ "select failed_count from pg_stat_archiver")
segments=$(wc -l < "$work/calls.log")
echo "tool=$tool burst_rows=$rows segments_archived=$segments failed_calls=$failed"
echo "wal_generation_s=$(echo "scale=2; ($t_gen - $t0)/1000000000" | bc)"
echo "archive_completion_s=$(echo "scale=2; ($t_done - $t0)/1000000000" | bc)"
awk '{print $1/1000000}' "$work/calls.log" | sort -n | awk '{a[NR]=$1} END {printf "call_ms p50=%.1f p90=%.1f p99=%.1f max=%.1f n=%d\n", a[int(NR*0.5)+1], a[int(NR*0.9)+1], a[int(NR*0.99)+1], a[NR], NR}'
