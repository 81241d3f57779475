#!/usr/bin/env bash
# Scanner throughput on real WAL: makes a throwaway PostgreSQL cluster, runs pgbench so the WAL
# holds an ordinary OLTP mix (heap, btree, commits, full-page images), archives the segments,
# then times the scanner on one core (taskset) over the segments written by the pgbench run only:
# the bulk load of pgbench -i has few, large records, which would flatter the figure.
# See docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bin/lib/find-java.sh"
tidemark_find_java || { echo "no JDK >= 21" >&2; exit 1; }
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-scanbench.XXXXXX)
port=${PORT:-55499}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
cleanup() { as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
as_pg mkdir "$work/archive"
as_pg "$bindir/initdb" -D "$work/data" -k >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses=''
unix_socket_directories='$work'
archive_mode=on
archive_command='cp %p $work/archive/%f'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null
as_pg "$bindir/pgbench" -h "$work" -p "$port" -i -s "${SCALE:-5}" postgres >/dev/null 2>&1
first=$(as_pg "$bindir/psql" -h "$work" -p "$port" -Atc "select pg_walfile_name(pg_switch_wal() + 1)" postgres)
as_pg "$bindir/pgbench" -h "$work" -p "$port" -c 4 -T "${PGBENCH_SECONDS:-30}" postgres >/dev/null 2>&1
as_pg "$bindir/psql" -h "$work" -p "$port" -Atc "select pg_switch_wal()" postgres >/dev/null
sleep 2
# segments of the run: from the one after the post-load switch, without the last (switched, mostly empty)
ls "$work/archive" | grep -E '^[0-9A-F]{24}$' | awk -v f="$first" '$0 > f' | head -n -1 | head -n "${SEGMENTS:-16}" \
  | sed "s#^#$work/archive/#" > "$work/list"
[ -s "$work/list" ] || { echo "pgbench wrote less than two segments; raise PGBENCH_SECONDS" >&2; exit 1; }
(cd "$root" && [ -f bench/target/tidemark-bench.jar ] || ./mvnw -q -pl bench -am package -DskipTests)
taskset -c 0 "$TIDEMARK_JAVA_HOME/bin/java" -Xms2g -Xmx2g -XX:+UseParallelGC -jar "$root/bench/target/tidemark-bench.jar" \
  --seconds "${SECONDS_PER_RUN:-20}" $(cat "$work/list")
