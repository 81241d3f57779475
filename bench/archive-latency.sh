#!/usr/bin/env bash
# Per-call latency of a synchronous `tidemark archive-push`, one call at a time (PostgreSQL idle
# between segments), against a local cloud over plain HTTP or TLS.
#
#   bench/archive-latency.sh http|tls [N] [EXTRA_CONF_LINE...]
#
# Makes N (default 50) real 16 MB segments once (a throwaway cluster, a WAL burst, archive_command
# copies each one aside), starts `tidemark local-cloud` (--tls for tls) with its rotating node
# credentials (credentials.uri, as an instance role), runs stanza-create, then pushes the N segments
# one after another with `bin/tidemark archive-push` (archive-push.async=false) and reports the
# wall time of each call (p50, p95, max). EXTRA_CONF_LINE... are appended to tidemark.conf.
# VARIANTS="a b" (environment) compares configurations on the same cloud and segments: variant V
# adds the line in VARIANT_V (e.g. VARIANT_sdk='s3.client=sdk'), and the calls alternate between
# the variants so that both see the same machine load; N calls each. ROOT_V=DIR runs variant V's
# calls with DIR/bin/tidemark (another build, e.g. a copy of an older one) against the same cloud.
set -euo pipefail
mode=${1:?usage: archive-latency.sh http|tls [N] [conf lines...]}
n=${2:-50}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
work=$(mktemp -d /tmp/tidemark-latbench.XXXXXX)
chmod 755 "$work"
port=${PORT:-55497}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
cloud_pid=
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -z "$cloud_pid" ] || { kill "$cloud_pid" 2>/dev/null; wait "$cloud_pid" 2>/dev/null || true; }
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

tls=(); [ "$mode" = tls ] && tls=(--tls)
"$root/bin/tidemark" local-cloud --dir "$work/cloud" "${tls[@]}" --s3-port 0 --api-port 0 --dynamodb-port 0 \
  --credentials-port 0 --stanza main > "$work/cloud.log" 2>&1 &
cloud_pid=$!
for _ in $(seq 1 240); do grep -q ready "$work/cloud.log" && break; sleep 0.5; done
grep -q ready "$work/cloud.log" || { cat "$work/cloud.log"; exit 1; }
conf="$work/tidemark.conf"
cp "$work/cloud/tidemark.conf" "$conf"
mkdir -p "$work/spool" "$work/segs"
{ echo "spool.dir=$work/spool"; echo "archive-push.async=false"; for l in "$@"; do echo "$l"; done; } >> "$conf"
chown postgres "$work/spool" "$work/segs" "$conf" 2>/dev/null || true
chmod -R a+rX "$work/cloud" 2>/dev/null || true

as_pg "$bindir/initdb" -D "$work/data" >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
archive_mode=on
archive_command='cp %p $work/segs/%f'
max_wal_size=8GB
checkpoint_timeout=30min
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { as_pg "$bindir/psql" -X -h "$work" -p "$port" -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
as_pg bash -c "cd $work && PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA=$work/data $root/bin/tidemark stanza-create --config $conf --stanza main" >/dev/null
variants=(${VARIANTS:-default})
for v in "${variants[@]}"; do
  cp "$conf" "$work/$v.conf"; line="VARIANT_$v"; [ -z "${!line:-}" ] || echo "${!line}" >> "$work/$v.conf"
  chown postgres "$work/$v.conf" 2>/dev/null || true; : > "$work/calls.$v.log"
done
total=$(( n * ${#variants[@]} ))
rows=$(( (total + 2) * 16 * 1024 * 1024 / 100 ))
psql_ "create table burst as select g as id, md5(g::text) as v from generate_series(1, $rows) g" >/dev/null
psql_ "select pg_switch_wal()" >/dev/null
until [ "$(ls "$work/segs" | grep -c '^[0-9A-F]\{24\}$')" -ge "$total" ]; do
  psql_ "insert into burst select g, md5(g::text) from generate_series(1, 100000) g; select pg_switch_wal()" >/dev/null
  sleep 0.5
done
sleep 1
i=0
for f in $(ls "$work/segs" | grep '^[0-9A-F]\{24\}$' | sort | head -n "$total"); do
  v=${variants[$(( i % ${#variants[@]} ))]}; i=$((i + 1))
  t0=$(date +%s%N)
  vroot="ROOT_$v"; vroot=${!vroot:-$root}
  as_pg "$vroot/bin/tidemark" archive-push --config "$work/$v.conf" --stanza main "$work/segs/$f" >/dev/null 2>>"$work/push.err" \
    || { echo "archive-push $f ($v) failed:"; tail -5 "$work/push.err"; exit 1; }
  echo "$(( $(date +%s%N) - t0 ))" >> "$work/calls.$v.log"
done
echo "mode=$mode calls_each=$n extra=[$*] load=$(cut -d' ' -f1-3 /proc/loadavg)"
for v in "${variants[@]}"; do
  awk '{print $1/1000000}' "$work/calls.$v.log" | sort -n | awk -v v="$v" '{a[NR]=$1} END {printf "%s call_ms p50=%.1f p95=%.1f max=%.1f n=%d\n", v, a[int(NR*0.5)+1], a[int(NR*0.95)+1], a[NR], NR}'
done
