#!/usr/bin/env bash
# Issue 17's lag of `tidemark agent`'s WAL streaming, idle and under pgbench: from a commit's
# acknowledgement to the recovery window's right edge covering it (the catalog API, what `info`
# shows), and on the way to S3's confirmation of the chunk that holds it.
#
#   bench/stream-lag-bench.sh [SAMPLES]     starts a local cloud (TLS) and a throwaway cluster, runs
#                                           the agent with stream.enabled=true, then takes SAMPLES
#                                           probes (default 100) idle and SAMPLES under pgbench
#
# The probes are bench/WindowLagProbe.java (one JVM per phase, the shim's own API client): each
# commits one row, reads pg_current_wal_flush_lsn() after it, and polls GET /stanzas/main's
# window.latest.lsn and the agent's metric tidemark_stream_stored_end_lsn_bytes every POLL_MS
# (default 50) until both cover that position. Probes are spaced by GAP_MS (default 300).
# pgbench (scale 10, CLIENTS clients, default 4) runs in the background for the loaded half.
# Reported: p50, p99 and max per phase of both lags, with the stream interval (INTERVAL, default 1s);
# and per phase the cloud's side of the S3 events (the local cloud logs each delivery with
# bench/s3-events-logback.xml): for the chunks and the archived segments, how long an event waited
# for a delivery thread ("queued") and how long its function ran.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
samples=${1:-100}
interval=${INTERVAL:-1s}
poll_ms=${POLL_MS:-50}
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
JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Dlogback.configurationFile=$root/bench/s3-events-logback.xml" \
  bench_start_cloud "$work"
printf 'stream.enabled=true\nstream.interval=%s\narchive-push.async=false\n' "$interval" >> "$conf"

as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port=$port
listen_addresses='127.0.0.1'
unix_socket_directories='$work'
max_wal_size=4GB
archive_mode=on
archive_command='$root/bin/tidemark archive-push --config $conf --stanza main %p'
CONF
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_() { local a=(); for c in "$@"; do a+=(-c "$c"); done
  as_pg "$bindir/psql" -X -q -h "$work" -p "$port" -U postgres -At -v ON_ERROR_STOP=1 -d postgres "${a[@]}"; }
pgopts=(--pg-host 127.0.0.1 --pg-port "$port" --pg-user postgres)
as_pg "$root/bin/tidemark" stanza-create --config "$conf" --stanza main "${pgopts[@]}" >/dev/null
psql_ "create table probe (at timestamptz)" >/dev/null
as_pg "$bindir/pgbench" -i -q -s 10 -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
# a recovery window needs a backup: the archive holds the WAL up to the stream's first segment
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" "$root/bin/tidemark" backup \
  --config "$conf" --stanza main --type full >/dev/null

# the agent's own pid (runuser does not pass SIGTERM on): the shell execs the launcher, which execs java
as_pg bash -c 'echo $$ > "$1/agent.pid"; shift; exec "$@"' _ "$work" "$root/bin/tidemark" agent --config "$conf" \
  --stanza main "${pgopts[@]}" --metrics-port "$metrics_port" > "$work/agent.log" 2>&1 &
for _ in $(seq 1 50); do [ -s "$work/agent.pid" ] && break; sleep 0.1; done
agent_pid=$(cat "$work/agent.pid")
stored() { curl -fsS "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null \
  | sed -n 's/^tidemark_stream_stored_end_lsn_bytes{[^}]*} \([0-9.eE+]*\)$/\1/p' | awk '{printf "%.0f", $1}'; }
for _ in $(seq 1 120); do [ -n "$(stored)" ] && break; sleep 0.5; done
[ -n "$(stored)" ] || { echo "the agent stored no chunk:"; cat "$work/agent.log"; exit 1; }

# probe LABEL: SAMPLES probes of both lags (bench/WindowLagProbe.java), one line of percentiles
. "$root/bin/lib/find-java.sh" && tidemark_find_java
java=$TIDEMARK_JAVA_HOME/bin/java
probe() {
  "$java" -cp "$root/node-shim/target/tidemark-node-shim.jar" "$root/bench/WindowLagProbe.java" "$conf" "$port" \
    "$metrics_port" "$1 interval=$interval" "$samples" "$poll_ms" "$gap_ms" 2> "$work/probe-$1.err" \
    || { cat "$work/probe-$1.err"; tail "$work/agent.log"; events "$mark" "$1"; exit 1; }
}

# events FROM LABEL: the deliveries logged since line FROM of the cloud's log, per kind of key
events() {
  local kind
  for kind in stream wal; do
    tail -n +"$(( $1 + 1 ))" "$work/cloud.log" | grep -F ' - delivered ' | grep -F " main/$kind/" \
      | sed -n 's/.* queued \([0-9-]*\) ms, ran \([0-9]*\) ms.*/\1 \2/p' > "$work/events.txt" || true
    printf '%s %s events: n=%d queued %s | ran %s\n' "$2" "$kind" "$(wc -l < "$work/events.txt")" \
      "$(cut -d' ' -f1 "$work/events.txt" | pcts)" "$(cut -d' ' -f2 "$work/events.txt" | pcts)"
  done
}
pcts() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit }
  p50 = int(0.5 * NR); if (p50 < 0.5 * NR) p50++; p99 = int(0.99 * NR); if (p99 < 0.99 * NR) p99++
  printf "p50_ms=%d p99_ms=%d max_ms=%d", v[p50], v[p99], v[NR] }'; }

echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
mark=$(bench_mark "$work")
probe idle
events "$mark" idle
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
as_pg "$bindir/pgbench" -n -c "$clients" -j 2 -T 100000 -h "$work" -p "$port" -U postgres postgres \
  > "$work/pgbench.log" 2>&1 &
bench_pid=$!
sleep 5
mark=$(bench_mark "$work")
probe pgbench
events "$mark" pgbench
kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; bench_pid=
echo "streamed: $(curl -fsS "http://127.0.0.1:$metrics_port/metrics" | grep -E '^tidemark_stream_(chunks_stored|stored_bytes|upload_errors)_total' | tr '\n' ' ')"
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
