#!/usr/bin/env bash
# CPU an idle asynchronous archive worker costs, and how fast it reacts after idling: starts
# `tidemark archive-push-worker --idle-exit 0` on a data directory with nothing ready (a
# pg_wal/archive_status and a postmaster.pid, no server), lets it settle 15 s, then reads its
# user+system CPU from /proc/<pid>/stat over SECONDS. Then ROUNDS (default 10) times, 3 s apart,
# a segment is marked ready (pg_wal/archive_status/<name>.ready) and the time until the worker
# recorded its attempt in the spool is taken (<name>.error: the store is a closed port and
# retries=0, so the attempt fails at once; what is timed is the worker noticing the file).
#
#   bench/worker-idle-cpu.sh [SECONDS [ROOT...]]
#
# ROOT... are checkouts whose bin/tidemark to measure (default this one), all at the same time,
# so that they see the same machine load.
set -euo pipefail
secs=${1:-60}
shift || true
roots=("$@"); [ ${#roots[@]} -gt 0 ] || roots=("$(cd "$(dirname "$0")/.." && pwd)")
work=$(mktemp -d /tmp/tidemark-idlecpu.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
i=0
for r in "${roots[@]}"; do
  d=$work/$i; mkdir -p "$d/pgdata/pg_wal/archive_status" "$d/spool"; chmod 700 "$d/spool"
  echo 1 > "$d/pgdata/postmaster.pid"
  printf 's3.endpoint=http://127.0.0.1:9\ns3.bucket=idle\ns3.region=us-east-1\ns3.pathStyle=true\ns3.accessKeyId=a\ns3.secretAccessKey=b\napi.url=http://127.0.0.1:9\nstanza=idle\nretries=0\nspool.dir=%s\n' "$d/spool" > "$d/tidemark.conf"
  chmod 600 "$d/tidemark.conf"
  "$r/bin/tidemark" archive-push-worker --config "$d/tidemark.conf" --pgdata "$d/pgdata" --idle-exit 0 2> "$d/log" &
  pids+=($!)
  i=$((i + 1))
done
sleep 15 # start-up and the JIT's first work are not idling
declare -a c0 c1 lat
for k in "${!pids[@]}"; do c0[$k]=$(cpu "${pids[$k]}"); done
sleep "$secs"
for k in "${!pids[@]}"; do c1[$k]=$(cpu "${pids[$k]}"); done
for round in $(seq 1 "${ROUNDS:-10}"); do
  sleep 3
  for k in "${!pids[@]}"; do
    name=$(printf '%024X' "$round")
    head -c 1024 /dev/zero > "$work/$k/pgdata/pg_wal/$name"
    t0=$EPOCHREALTIME
    touch "$work/$k/pgdata/pg_wal/archive_status/$name.ready"
    until [ -e "$work/$k/spool/idle/archive/$name.error" ]; do sleep 0.002; done
    lat[$k]="${lat[$k]:-} $(echo "($EPOCHREALTIME - $t0) * 1000 / 1" | bc)"
  done
done
for k in "${!pids[@]}"; do
  echo "${roots[$k]}: $(echo "scale=3; (${c1[$k]} - ${c0[$k]}) * 60 / $secs" | bc) s CPU per minute idle" \
    "(${c0[$k]} s in its first 15 s); ready to attempt recorded, ms: $(echo ${lat[$k]} | tr ' ' '\n' | sort -n | tr '\n' ' ')"
done
