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
. "$root/bench/lib.sh"
work=$(bench_workdir latbench)
port=${PORT:-55497}
cloud_pid=
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -z "$cloud_pid" ] || { kill "$cloud_pid" 2>/dev/null; wait "$cloud_pid" 2>/dev/null || true; }
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

[ "$mode" = tls ] || BENCH_CLOUD_TLS=0
bench_start_cloud "$work"
mkdir -p "$work/segs"
{ echo "archive-push.async=false"; for l in "$@"; do echo "$l"; done; } >> "$conf"
chown postgres "$work/segs" 2>/dev/null || true
chmod -R a+rX "$work/cloud" 2>/dev/null || true
bench_archiving_cluster "$work" "$port" "cp %p $work/segs/%f"
bench_tidemark_stanza_create "$work" "$port" "$conf" main
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
