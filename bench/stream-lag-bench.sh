#!/usr/bin/env bash
# Commit-to-chunk-stored lag of `tidemark agent`'s WAL streaming (issue 17), idle and under pgbench.
#
#   bench/stream-lag-bench.sh [SAMPLES]     starts a local cloud (TLS) and a throwaway cluster, runs
#                                           the agent with stream.enabled=true, then takes SAMPLES
#                                           probes (default 100) idle and SAMPLES under pgbench
#
# A probe commits one row, reads pg_current_wal_flush_lsn() after it (the commit is durable there)
# and polls the agent's metric tidemark_stream_stored_end_lsn_bytes every POLL_MS (default 20) until
# the stored chunks reach that position: the time from the commit's return to S3's confirmation of
# the chunk holding it, as a client would see its RPO. Probes are spaced by GAP_MS (default 300).
# pgbench (scale 10, CLIENTS clients, default 4) runs in the background for the loaded half.
# Reported: p50, p99 and max per phase, with the stream interval (INTERVAL, default 1s).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
samples=${1:-100}
interval=${INTERVAL:-1s}
poll_ms=${POLL_MS:-20}
gap_ms=${GAP_MS:-300}
clients=${CLIENTS:-4}
port=${PORT:-55499}
metrics_port=${METRICS_PORT:-59854}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
. "$root/bench/lib.sh"

work=$(mktemp -d /tmp/tidemark-streambench.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
cloud_pid= agent_pid= bench_pid=
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  if [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null; then
    for _ in $(seq 1 300); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  as_pg "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_start_cloud "$work"
printf 'stream.enabled=true\nstream.interval=%s\narchive-push.async=false\n' "$interval" >> "$conf"

as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
max_wal_size=4GB
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { local a=(); for c in "$@"; do a+=(-c "$c"); done
  as_pg "$bindir/psql" -X -q -h "$work" -p "$port" -U postgres -At -v ON_ERROR_STOP=1 -d postgres "${a[@]}"; }
pgopts=(--pg-host 127.0.0.1 --pg-port "$port" --pg-user postgres)
as_pg "$root/bin/tidemark" stanza-create --config "$conf" --stanza main "${pgopts[@]}" >/dev/null
psql_ "create table probe (at timestamptz)" >/dev/null
as_pg "$bindir/pgbench" -i -q -s 10 -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1

# the agent's own pid (runuser does not pass SIGTERM on): the shell execs the launcher, which execs java
as_pg bash -c 'echo $$ > "$1/agent.pid"; shift; exec "$@"' _ "$work" "$root/bin/tidemark" agent --config "$conf" \
  --stanza main "${pgopts[@]}" --metrics-port "$metrics_port" > "$work/agent.log" 2>&1 &
for _ in $(seq 1 50); do [ -s "$work/agent.pid" ] && break; sleep 0.1; done
agent_pid=$(cat "$work/agent.pid")
stored() { curl -fsS "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null \
  | sed -n 's/^tidemark_stream_stored_end_lsn_bytes{[^}]*} \([0-9.eE+]*\)$/\1/p' | awk '{printf "%.0f", $1}'; }
for _ in $(seq 1 120); do [ -n "$(stored)" ] && break; sleep 0.5; done
[ -n "$(stored)" ] || { echo "the agent stored no chunk:"; cat "$work/agent.log"; exit 1; }

# probe LABEL: SAMPLES probes, one lag (ms) per line into $work/LABEL.ms
probe() {
  local label=$1 i lsn t0 t1 s
  : > "$work/$label.ms"
  for i in $(seq 1 "$samples"); do
    # two statements, two transactions: the position is read after the commit returned
    lsn=$(psql_ "insert into probe values (now())" "select pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::bigint")
    t0=$(date +%s%N)
    while :; do
      s=$(stored); [ -n "$s" ] && [ "$s" -ge "$lsn" ] && break
      [ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 120 ] || { echo "not stored within 120 s:"; tail "$work/agent.log"; exit 1; }
      sleep "$(echo "scale=3; $poll_ms/1000" | bc)"
    done
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 )) >> "$work/$label.ms"
    sleep "$(echo "scale=3; $gap_ms/1000" | bc)"
  done
  sort -n "$work/$label.ms" | awk -v label="$label" -v iv="$interval" \
    '{a[NR]=$1} END {printf "%s interval=%s p50_ms=%d p99_ms=%d max_ms=%d n=%d\n", label, iv, a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR], NR}'
}

echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
probe idle
as_pg "$bindir/pgbench" -n -c "$clients" -j 2 -T 100000 -h "$work" -p "$port" -U postgres postgres \
  > "$work/pgbench.log" 2>&1 &
bench_pid=$!
sleep 5
probe pgbench
kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; bench_pid=
echo "streamed: $(curl -fsS "http://127.0.0.1:$metrics_port/metrics" | grep -E '^tidemark_stream_(chunks_stored|stored_bytes|upload_errors)_total' | tr '\n' ' ')"
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
