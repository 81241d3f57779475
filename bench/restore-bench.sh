#!/usr/bin/env bash
# Point-in-time restore, side by side: Tidemark and pgBackRest 2.45 from the same local S3
# endpoint (local-cloud --tls). One cluster archives to both (archive_command runs both pushes),
# both take a full backup of pgbench at SCALE, then about WAL_MB of WAL is written and a target
# time taken. Each tool restores to that time into its own directory; measured: the restore
# command (files), then the start until the cluster is promoted (WAL replay through its
# restore_command).
#
#   bench/restore-bench.sh [SCALE] [WAL_MB]        (defaults 100 and 1000)
#   PGBR_ASYNC=1 bench/restore-bench.sh ...          pgBackRest's archive-get asynchronous too
#                                                    (archive-async=y: it prefetches into a spool)
set -euo pipefail
scale=${1:-100}
wal_mb=${2:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-restorebench.XXXXXX)
chmod 755 "$work"
port=${PORT:-55496}
stanza=bench$$
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cloud_pid=
cleanup() {
  for d in data restore-tidemark restore-pgbackrest; do
    as_pg "$bindir/pg_ctl" -D "$work/$d" -m immediate stop >/dev/null 2>&1 || true
  done
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
ms() { echo $(( $(date +%s%N) / 1000000 )); }
psql_() { as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$1" -At -v ON_ERROR_STOP=1 -d postgres -c "$2"; }
secs() { echo "scale=1; ($2 - $1)/1000" | bc; }

. "$root/bench/lib.sh"
bench_start_cloud "$work" "$stanza"
cat > "$work/pgbackrest.conf" <<CONF
[global]
$(bench_pgbackrest_s3_repo "$conf" /pgbackrest)
compress-type=zst
compress-level=1
process-max=2
start-fast=y
lock-path=$work/lock
log-path=$work
log-level-console=warn
log-level-file=off
$( [ -n "${PGBR_ASYNC:-}" ] && printf 'archive-async=y\nspool-path=%s\narchive-get-queue-max=256MiB\n' "$work/pgbr-spool" )
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
chown postgres "$work/pgbackrest.conf"
mkdir -p "$work/pgbr-spool"; chown postgres "$work/pgbr-spool"

[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/data" -k >/dev/null 2>&1
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='$root/bin/tidemark archive-push --config $conf --stanza $stanza %p && pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p'
max_wal_size=8GB
checkpoint_timeout=30min
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres "$root/bin/tidemark" stanza-create --config "$conf" --stanza "$stanza" >/dev/null
as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null
echo "pgbench -i -s $scale ..."
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -i -s "$scale" -q postgres >/dev/null 2>&1
psql_ "$port" "checkpoint" >/dev/null
wait_archived() {
  local last; last=$(psql_ "$port" "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "$port" "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.5; done
}
wait_archived
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" "$root/bin/tidemark" backup --config "$conf" --stanza "$stanza" --type full --process-max 2 >/dev/null
as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main --type=full backup
rows=$(( wal_mb * 1024 * 1024 / 100 ))
echo "writing about $wal_mb MB of WAL ..."
psql_ "$port" "create table after_backup as select g as id, md5(g::text) as v from generate_series(1, $rows) g" >/dev/null
target=$(psql_ "$port" "select clock_timestamp()")
sleep 1
psql_ "$port" "create table after_target as select 1 as x" >/dev/null
wait_archived
expected=$(psql_ "$port" "select count(*) from after_backup")
until "$root/bin/tidemark" info --output json --config "$conf" --stanza "$stanza" | grep -q '"latest"'; do sleep 1; done
sleep 3

start_and_wait() { # dir port -> seconds until promoted
  local t0 t1
  t0=$(ms)
  as_pg "$bindir/pg_ctl" -D "$1" -l "$1.log" -o "-p $2 -c archive_mode=off -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" -w -t 900 start >/dev/null
  until [ "$(psql_ "$2" "select pg_is_in_recovery()" 2>/dev/null)" = f ]; do sleep 0.2; done
  t1=$(ms)
  secs "$t0" "$t1"
}
mkdir -p "$work/restore-tidemark" "$work/restore-pgbackrest"
chown postgres "$work/restore-tidemark" "$work/restore-pgbackrest"; chmod 700 "$work/restore-tidemark" "$work/restore-pgbackrest"

t0=$(ms)
as_pg env PGHOST=127.0.0.1 "$root/bin/tidemark" restore --config "$conf" --stanza "$stanza" --pgdata "$work/restore-tidemark" \
  --target-time "$target" --process-max 2 > "$work/tidemark-restore.out" 2>&1 || { cat "$work/tidemark-restore.out"; exit 1; }
t1=$(ms)
tm_files=$(secs "$t0" "$t1"); tm_start=$(start_and_wait "$work/restore-tidemark" $((port + 1)))
tm_rows=$(psql_ $((port + 1)) "select count(*) from after_backup")
as_pg "$bindir/pg_ctl" -D "$work/restore-tidemark" -m fast stop >/dev/null

t0=$(ms)
as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main --pg1-path="$work/restore-pgbackrest" --type=time \
  "--target=$target" --target-action=promote restore
t1=$(ms)
pb_files=$(secs "$t0" "$t1"); pb_start=$(start_and_wait "$work/restore-pgbackrest" $((port + 2)))
pb_rows=$(psql_ $((port + 2)) "select count(*) from after_backup")

printf '%-12s %10s %18s %8s %12s\n' tool "files (s)" "until promoted (s)" "total" "rows"
printf '%-12s %10s %18s %8s %12s\n' tidemark "$tm_files" "$tm_start" "$(echo "$tm_files + $tm_start" | bc)" "$tm_rows/$expected"
printf '%-12s %10s %18s %8s %12s\n' pgbackrest "$pb_files" "$pb_start" "$(echo "$pb_files + $pb_start" | bc)" "$pb_rows/$expected"
