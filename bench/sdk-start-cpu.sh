#!/usr/bin/env bash
# CPU seconds (user + sys) and wall time of the per-call JVMs that build the SDK's clients, per
# command: a synchronous `tidemark archive-push` of a real 16 MB segment (push), `archive-get` of
# that segment (get: download, decompression, SHA-256), `archive-get` of a segment that is not
# archived (miss: a polling standby's call) and `info` (the catalog API, PostgreSQL's position),
# against `tidemark local-cloud` (node-role credentials through credentials.uri; S3 over TLS as
# on AWS, BENCH_CLOUD_TLS=0 for plain HTTP). CPU is what compares while other builds load the
# machine; wall times are printed beside it.
#
#   ROOT_a=DIR ROOT_b=DIR bench/sdk-start-cpu.sh [N]
#
# Each ROOT_V is a checkout (or a copy of bin/ and node-shim/target/) whose bin/tidemark runs
# variant V; calls alternate a, b, a, b... on the same cloud so that both see the same load.
# ENV_V="NAME=value ..." adds environment variables to variant V's calls. CLOUD_ROOT=DIR runs the
# local cloud from DIR (a checkout with local-cloud/target built). N (default 12) calls of each
# command per variant. Prints the median and quartiles per variant and command.
set -euo pipefail
n=${1:-12}
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
variants=(${VARIANTS:-a b})
work=$(bench_workdir sdkcpu)
port=${PORT:-55498}
cloud_pid=
cleanup() {
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -z "$cloud_pid" ] || { kill "$cloud_pid" 2>/dev/null; wait "$cloud_pid" 2>/dev/null || true; }
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
BENCH_CLOUD_TLS=${BENCH_CLOUD_TLS:-1} BENCH_CLOUD_ROOT=${CLOUD_ROOT:-$root} bench_start_cloud "$work"
mkdir -p "$work/segs" "$work/got"
{ echo "archive-push.async=false"; echo "archive-get.prefetch=0"; } >> "$conf"
chown postgres "$work/segs" "$work/got" 2>/dev/null || true
chmod -R a+rX "$work/cloud" 2>/dev/null || true
bench_archiving_cluster "$work" "$port" "cp %p $work/segs/%f"
bench_tidemark_stanza_create "$work" "$port" "$conf" main
total=$(( n * ${#variants[@]} ))
psql_ "create table burst as select g as id, md5(g::text) as v from generate_series(1, 100) g" >/dev/null
until [ "$(ls "$work/segs" | grep -c '^[0-9A-F]\{24\}$')" -ge "$total" ]; do
  psql_ "insert into burst select g, md5(g::text) from generate_series(1, 150000) g; select pg_switch_wal()" >/dev/null
done
sleep 1
for v in "${variants[@]}"; do for c in push get miss info; do : > "$work/$c.$v"; : > "$work/wall-$c.$v"; done; done
pg=(); [ "$(id -u)" = 0 ] && pg=(runuser -u postgres --)
cpu() { # command...: appends "user+sys" of the call to $out, its wall time to wall-$out
  /usr/bin/time -f "%U %S %e" -o "$work/t" "$@" >/dev/null 2>>"$work/err" || [ "$expect_fail" = 1 ] \
    || { echo "failed: $*"; tail -5 "$work/err"; exit 1; }
  tail -1 "$work/t" | awk '{print $1 + $2}' >> "$work/$out" # a failed call's file starts with "Command exited..."
  tail -1 "$work/t" | awk '{print $3}' >> "$work/wall-$out"
}
i=0
for f in $(ls "$work/segs" | grep '^[0-9A-F]\{24\}$' | sort | head -n "$total"); do
  v=${variants[$(( i % ${#variants[@]} ))]}; i=$((i + 1))
  vroot="ROOT_$v"; vroot=${!vroot:-$root}
  venv="ENV_$v"; venv=(env ${!venv:-})
  out=push.$v expect_fail=0 cpu "${pg[@]}" "${venv[@]}" "$vroot/bin/tidemark" archive-push --config "$conf" --stanza main "$work/segs/$f"
  out=get.$v expect_fail=0 cpu "${pg[@]}" "${venv[@]}" "$vroot/bin/tidemark" archive-get --config "$conf" --stanza main "$f" "$work/got/x"
  out=miss.$v expect_fail=1 cpu "${pg[@]}" "${venv[@]}" "$vroot/bin/tidemark" archive-get --config "$conf" --stanza main \
    "00000001000000FF000000$(printf %02X $i)" "$work/got/y"
  out=info.$v expect_fail=0 cpu "${pg[@]}" "${venv[@]}" "$vroot/bin/tidemark" info --config "$conf" --stanza main \
    --pg-host "$work" --pg-port "$port"
done
echo "calls_each=$n load=$(cut -d' ' -f1-3 /proc/loadavg)"
for v in "${variants[@]}"; do
  for c in push get miss info; do
    w=$(sort -n "$work/wall-$c.$v" | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
    sort -n "$work/$c.$v" | awk -v v="$v" -v c="$c" -v w="$w" '{a[NR]=$1} END {printf "%s %-4s CPU s median=%.2f q1=%.2f q3=%.2f n=%d wall s median=%s\n", v, c, a[int((NR+1)/2)], a[int(NR/4)+1], a[int(NR*3/4)+1], NR, w}'
  done
done
