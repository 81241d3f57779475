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
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-archbench.XXXXXX)
chmod 755 "$work"
port=${PORT:-55498}
burst_mb=${BURST_MB:-320}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
cleanup() { as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

as_pg "$bindir/initdb" -D "$work/data" >/dev/null
case "$tool" in
  pgbackrest)
    cat > "$work/pgbackrest.conf" <<CONF
[global]
repo1-path=$work/repo
compress-type=lz4
archive-async=n
lock-path=$work/lock
log-path=$work/log
log-level-console=warn
log-level-file=off
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
    chown postgres "$work/pgbackrest.conf"
    real="pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p"
    ;;
  pgbackrest-s3)
    [ -n "$conf" ] || { echo "pgbackrest-s3 needs a local-cloud --tls tidemark.conf" >&2; exit 2; }
    . "$root/bench/lib.sh"
    cat > "$work/pgbackrest.conf" <<CONF
[global]
$(bench_pgbackrest_s3_repo "$conf" /pgbackrest-$$)
compress-type=lz4
archive-async=n
lock-path=$work/lock
log-path=$work/log
log-level-console=warn
log-level-file=off
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
    chown postgres "$work/pgbackrest.conf"
    real="pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p"
    tool=pgbackrest
    ;;
  tidemark)
    [ -n "$conf" ] || { echo "tidemark needs the local cloud's tidemark.conf" >&2; exit 2; }
    stanza="bench$$"
    # synchronous (the default is asynchronous), as a node of this run's stanza: its node role's
    # keys and API key (the local cloud enforces the stack's IAM; its conf names stanza main's)
    grep -v '^spool.dir=\|^credentials.uri=\|^api.key=\|^archive-push.async=' "$conf" > "$work/tidemark.conf"
    uri=$(sed -n 's/^credentials.uri=//p' "$conf")
    if [ -n "$uri" ]; then
      apikey=$(curl -fsS "${uri%/node/*}/api-key/$stanza" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p')
      printf 'credentials.uri=%s\napi.key=%s\n' "${uri%/*}/$stanza" "$apikey" >> "$work/tidemark.conf"
    fi
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
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='$work/timed.sh $real'
max_wal_size=8GB
min_wal_size=1GB
checkpoint_timeout=30min
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { as_pg "$bindir/psql" -X -h "$work" -p "$port" -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

case "$tool" in
  pgbackrest) as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null ;;
  tidemark) as_pg bash -c "cd $work && PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA=$work/data $root/bin/tidemark stanza-create --config $work/tidemark.conf --stanza $stanza" >/dev/null ;;
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
