#!/usr/bin/env bash
# Full backup of the same pgbench database, side by side: Tidemark and pgBackRest 2.45, both to
# the same local S3 endpoint (local-cloud --tls: pgBackRest's S3 repository needs TLS), both zstd
# level 1 with two processes; plus pgBackRest to a posix repository for reference.
#
#   bench/backup-bench.sh [SCALE]        (default 100: about 1.5 GB)
set -euo pipefail
scale=${1:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-backupbench.XXXXXX)
chmod 755 "$work"
port=${PORT:-55497}
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

. "$root/bench/lib.sh"
bench_start_cloud "$work" "$stanza"

[ "$(id -u)" = 0 ] && chown postgres "$work"
as_pg "$bindir/initdb" -D "$work/data" -k >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='$root/bin/tidemark archive-push --config $conf --stanza $stanza %p'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA=$work/data
as_pg env PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER "$root/bin/tidemark" stanza-create --config "$conf" --stanza "$stanza" >/dev/null
echo "pgbench -i -s $scale ..."
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -i -s "$scale" -q postgres >/dev/null 2>&1
as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -Atc "checkpoint" postgres >/dev/null
# Start from a caught-up archive: pg_backup_stop waits for the WAL archiver, and pgbench -i has
# just written over a gigabyte of WAL. Without this the first backup measured would pay for it.
last=$(as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -Atc "select pg_walfile_name(pg_switch_wal())" postgres)
until [ "$(as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -Atc "select coalesce(last_archived_wal,'') >= '$last' from pg_stat_archiver" postgres)" = t ]; do sleep 0.5; done
size=$(as_pg "$bindir/psql" -X -h 127.0.0.1 -p "$port" -Atc "select pg_size_pretty(pg_database_size('postgres'))" postgres)
echo "database: $size (pgbench scale $scale)"

cat > "$work/pgbackrest-s3.conf" <<CONF
[global]
$(bench_pgbackrest_s3_repo "$conf" /pgbackrest)
compress-type=zst
compress-level=1
process-max=2
start-fast=y
archive-check=n
lock-path=$work/lock-s3
log-path=$work
log-level-console=warn
log-level-file=off
[main]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
CONF
sed -e "s#^repo1-type=s3#repo1-type=posix#" -e "/^repo1-s3/d" -e "/^repo1-storage/d" -e "s#^repo1-path=.*#repo1-path=$work/repo-posix#" \
    -e "s#lock-s3#lock-posix#" "$work/pgbackrest-s3.conf" > "$work/pgbackrest-posix.conf"
chown postgres "$work"/pgbackrest-*.conf

run() { # label, command...
  local t0 t1
  t0=$(ms); "${@:2}" > "$work/$1.out" 2>&1 || { echo "$1 failed:"; tail -20 "$work/$1.out"; return 1; }; t1=$(ms)
  printf '%-28s %6.1f s\n' "$1" "$(echo "scale=1; ($t1 - $t0)/1000" | bc)"
}
for repo in s3 posix; do
  as_pg pgbackrest --config="$work/pgbackrest-$repo.conf" --stanza=main stanza-create >/dev/null
done
run "tidemark (s3, tls)" as_pg env PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGDATA=$PGDATA \
    "$root/bin/tidemark" backup --config "$conf" --stanza "$stanza" --type full --process-max 2
run "pgbackrest (s3, tls)" as_pg pgbackrest --config="$work/pgbackrest-s3.conf" --stanza=main --type=full backup
run "pgbackrest (posix)" as_pg pgbackrest --config="$work/pgbackrest-posix.conf" --stanza=main --type=full backup
echo "stored: tidemark $(du -sh "$work/cloud/s3/tidemark/$stanza/backup" | cut -f1), pgbackrest s3 $(du -sh "$work/cloud/s3/tidemark/pgbackrest/backup" 2>/dev/null | cut -f1), posix $(du -sh "$work/repo-posix/backup" | cut -f1)"
grep -E 'stored|files|took|delta|original' "$work/tidemark (s3, tls).out" | tail -4 || true
