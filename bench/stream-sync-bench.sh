#!/usr/bin/env bash
# Commit latency and chunk count of `tidemark agent`'s WAL streaming (issue 17): streaming off,
# streaming on (stream.interval, default mode), and synchronous mode (stream.synchronous=true, the
# agent named in synchronous_standby_names), each under the same pgbench run; then the chunks a
# rate-limited pgbench and a quiet cluster cost per stream.interval (docs/deploy.md's cost model).
#
#   bench/stream-sync-bench.sh [SECONDS]    each pgbench run lasts SECONDS (default 30)
#
# Latency: pgbench -n -c CLIENTS (default 4) at scale 10, per-transaction log (-l): the median and
# p99 of the transactions' latencies, and tps. Chunks: the agent's tidemark_stream_chunks_stored_total
# before and after the run (one chunk = one S3 PUT, and one S3 event for the indexer).
# Cost: pgbench -R RATE (default 50 transactions/s) for SECONDS with INTERVALS (default
# "1s 250ms 5s"), and a quiet cluster for SECONDS with the default interval.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
secs=${1:-30}
clients=${CLIENTS:-4}
rate=${RATE:-50}
intervals=${INTERVALS:-1s 250ms 5s}
port=${PORT:-57389}
metrics_port=${METRICS_PORT:-59484}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
. "$root/bench/lib.sh"

work=$(mktemp -d /tmp/tidemark-syncbench.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
cloud_pid= agent_pid=
stop_agent() {
  if [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; then
    for _ in $(seq 1 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  agent_pid=
}
cleanup() {
  stop_agent
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_start_cloud "$work"
base_conf=$conf
echo "archive-push.async=false" >> "$base_conf"

as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { as_pg "$bindir/psql" -X -q -h "$work" -p "$port" -U postgres -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
pgopts=(--pg-host 127.0.0.1 --pg-port "$port" --pg-user postgres)
as_pg "$root/bin/tidemark" stanza-create --config "$base_conf" --stanza main "${pgopts[@]}" >/dev/null
as_pg "$bindir/pgbench" -i -q -s 10 -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1

# start_agent KEY=VALUE...: the agent with streaming on and these stream keys
start_agent() {
  local c="$work/agent-$RANDOM.conf"
  cp "$base_conf" "$c"; echo "stream.enabled=true" >> "$c"
  for kv in "$@"; do echo "$kv" >> "$c"; done
  chown postgres "$c" 2>/dev/null || true
  rm -f "$work/agent.pid"
  as_pg bash -c 'echo $$ > "$1/agent.pid"; shift; exec "$@"' _ "$work" "$root/bin/tidemark" agent --config "$c" \
    --stanza main "${pgopts[@]}" --metrics-port "$metrics_port" >> "$work/agent.log" 2>&1 &
  for _ in $(seq 1 50); do [ -s "$work/agent.pid" ] && break; sleep 0.1; done
  agent_pid=$(cat "$work/agent.pid")
  for _ in $(seq 1 240); do [ "$(metric tidemark_stream_up)" = 1 ] && break; sleep 0.5; done
  [ "$(metric tidemark_stream_up)" = 1 ] || { echo "the agent does not stream:"; tail "$work/agent.log"; exit 1; }
}
metric() { curl -fsS "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null \
  | sed -n "s/^$1{[^}]*} \([0-9.eE+]*\)$/\1/p" | awk '{printf "%.0f", $1}'; }
chunks() { local n; n=$(metric tidemark_stream_chunks_stored_total); echo "${n:-0}"; }

# latency LABEL: one pgbench run; median/p99 latency (ms) of its transactions, tps, chunks stored
latency() {
  local label=$1 c0 c1 out
  c0=$( [ -n "$agent_pid" ] && chunks || echo 0)
  rm -rf "$work/log"; mkdir -p "$work/log"; chown postgres "$work/log" 2>/dev/null || true
  out=$(cd "$work/log" && as_pg "$bindir/pgbench" -n -c "$clients" -j 2 -T "$secs" -l -h "$work" -p "$port" -U postgres postgres 2>&1)
  c1=$( [ -n "$agent_pid" ] && chunks || echo 0)
  cat "$work"/log/pgbench_log.* | awk '{print $3}' | sort -n | awk -v label="$label" -v tps="$(echo "$out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')" \
    -v ch=$((c1 - c0)) -v s="$secs" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    '{a[NR]=$1} END {printf "%-12s median_ms=%.2f p99_ms=%.2f tps=%.0f transactions=%d chunks=%d chunks_per_s=%.1f load=%s\n",
       label, a[int(NR*0.5)+1]/1000, a[int(NR*0.99)+1]/1000, tps, NR, ch, ch/s, load}'
}

echo "load=$(cut -d' ' -f1-3 /proc/loadavg) cpus=$(nproc)"
latency off
start_agent stream.interval=1s
latency streaming
stop_agent
psql_ "alter system set synchronous_standby_names = 'tidemark_main'" >/dev/null
psql_ "select pg_reload_conf()" >/dev/null
start_agent stream.interval=1s stream.synchronous=true
for _ in $(seq 1 120); do [ "$(psql_ "select sync_state from pg_stat_replication where application_name = 'tidemark_main'")" = sync ] && break; sleep 0.5; done
latency synchronous
stop_agent
psql_ "alter system reset synchronous_standby_names" >/dev/null
psql_ "select pg_reload_conf()" >/dev/null

# cost: chunks per hour at RATE transactions/s, and quiet
for iv in $intervals; do
  start_agent "stream.interval=$iv"
  c0=$(chunks)
  as_pg "$bindir/pgbench" -n -c 2 -j 2 -R "$rate" -T "$secs" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
  c1=$(chunks)
  echo "cost interval=$iv rate=${rate}tps seconds=$secs chunks=$((c1 - c0)) chunks_per_hour=$(( (c1 - c0) * 3600 / secs ))"
  if [ "$iv" = 1s ]; then
    sleep 3; c0=$(chunks); sleep "$secs"; c1=$(chunks)
    echo "cost interval=$iv quiet seconds=$secs chunks=$((c1 - c0)) chunks_per_hour=$(( (c1 - c0) * 3600 / secs ))"
  fi
  stop_agent
done
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
grep -i "error\|refus" "$work/agent.log" | head -5 || true
