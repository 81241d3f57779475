#!/usr/bin/env bash
# What a crash of the primary loses with `tidemark agent`'s WAL streaming (issue 17).
#
#   bench/stream-crash-bench.sh [SECONDS]   pgbench runs SECONDS (default 20) against a primary that
#                                           archives and streams to a local cloud (TLS), then the
#                                           postmaster and every backend get SIGKILL, the agent too
#                                           (the node is gone), the data directory is deleted, and
#                                           `tidemark restore` (to latest) brings the stanza back
#
# SYNC=1: synchronous mode (stream.synchronous=true, synchronous_standby_names = the agent's name).
# INTERVAL: stream.interval (default 1s). CLIENTS: pgbench clients (default 4).
# Each pgbench transaction inserts one row (client id, time) into `acked`; pgbench's
# per-transaction log (-l) holds every transaction a client saw committed, with its time. A
# client's transactions commit one after another, so the rows restored for a client are the first
# ones of its log: the rest of its log is what was acknowledged and lost, and its log time says how
# long before the kill it was acknowledged. Reported: acknowledged, lost, the oldest lost's age, and
# how many lost were acknowledged more than 5 s before the kill (the default mode's goal: none).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${TIDEMARK_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
secs=${1:-20}
interval=${INTERVAL:-1s}
clients=${CLIENTS:-4}
sync=${SYNC:-0}
port=${PORT:-57379}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
. "$root/bench/lib.sh"

work=$(mktemp -d /tmp/tidemark-crashbench.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres "$work"
cloud_pid= agent_pid= bench_pid=
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null || true
  [ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null || true
  for d in data restored; do as_pg "$bindir/pg_ctl" -D "$work/$d" -m immediate stop >/dev/null 2>&1 || true; done
  [ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_start_cloud "$work"
printf 'archive-push.async=false\nstream.enabled=true\nstream.interval=%s\n' "$interval" >> "$conf"
[ "$sync" = 1 ] && echo "stream.synchronous=true" >> "$conf"

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
psql_() { as_pg "$bindir/psql" -X -q -h "$work" -p "${2:-$port}" -U postgres -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }
pgopts=(--pg-host 127.0.0.1 --pg-port "$port" --pg-user postgres)
as_pg "$root/bin/tidemark" stanza-create --config "$conf" --stanza main "${pgopts[@]}" >/dev/null
psql_ "create table acked (client int, at timestamptz)" >/dev/null
as_pg env PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATA="$work/data" "$root/bin/tidemark" backup \
  --config "$conf" --stanza main --type full >/dev/null
printf 'insert into acked values (:client_id, now());\n' > "$work/insert.sql"

as_pg bash -c 'echo $$ > "$1/agent.pid"; shift; exec "$@"' _ "$work" "$root/bin/tidemark" agent --config "$conf" \
  --stanza main "${pgopts[@]}" > "$work/agent.log" 2>&1 &
for _ in $(seq 1 50); do [ -s "$work/agent.pid" ] && break; sleep 0.1; done
agent_pid=$(cat "$work/agent.pid")
for _ in $(seq 1 240); do grep -q "streaming WAL of stanza" "$work/agent.log" && break; sleep 0.5; done
grep -q "streaming WAL of stanza" "$work/agent.log" || { echo "the agent does not stream:"; cat "$work/agent.log"; exit 1; }
if [ "$sync" = 1 ]; then
  psql_ "alter system set synchronous_standby_names = 'tidemark_main'" >/dev/null
  psql_ "select pg_reload_conf()" >/dev/null
  for _ in $(seq 1 120); do grep -q "synchronous mode: commits wait" "$work/agent.log" && break; sleep 0.5; done
  grep -q "synchronous mode: commits wait" "$work/agent.log" || { echo "not synchronous:"; cat "$work/agent.log"; exit 1; }
fi

echo "load=$(cut -d' ' -f1-3 /proc/loadavg) cpus=$(nproc) interval=$interval sync=$sync"
mkdir -p "$work/log"; chown postgres "$work/log" 2>/dev/null || true
(cd "$work/log" && as_pg "$bindir/pgbench" -n -c "$clients" -j 2 -T $((secs + 600)) -l -f "$work/insert.sql" \
  -h "$work" -p "$port" -U postgres postgres > "$work/pgbench.out" 2>&1) &
bench_pid=$!
sleep "$secs"
# the node dies: postmaster and backends, the agent
postmaster=$(head -1 "$work/data/postmaster.pid")
kill_ns=$(date +%s%N)
kill -9 "$postmaster" $(pgrep -P "$postmaster") "$agent_pid" 2>/dev/null || true
agent_pid=
wait "$bench_pid" 2>/dev/null || true; bench_pid=
rm -rf "$work/data"

# restore to latest once the indexer has caught up (the window's right edge stands still)
prev= same=0
for _ in $(seq 1 240); do
  cur=$("$root/bin/tidemark" info --output json --config "$conf" --stanza main \
    | python3 -c 'import json,sys; print(json.load(sys.stdin).get("window",{}).get("latest",{}).get("lsn",""))' 2>/dev/null || true)
  if [ -n "$cur" ] && [ "$cur" = "$prev" ]; then same=$((same + 1)); [ $same -ge 6 ] && break; else same=0; fi
  prev=$cur; sleep 0.5
done
mkdir -p "$work/restored"; chown postgres "$work/restored"; chmod 700 "$work/restored"
as_pg env PGHOST=127.0.0.1 "$root/bin/tidemark" restore --config "$conf" --stanza main --pgdata "$work/restored" \
  > "$work/restore.out" 2>&1 || { cat "$work/restore.out"; exit 1; }
rport=$((port + 1))
as_pg "$bindir/pg_ctl" -D "$work/restored" -l "$work/restored.log" -o "-p $rport -c archive_mode=off -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" -w -t 900 start >/dev/null
until [ "$(psql_ "select pg_is_in_recovery()" $rport 2>/dev/null)" = f ]; do sleep 0.2; done
psql_ "select client, count(*) from acked group by client" $rport | tr '|' ' ' > "$work/restored.counts"

# per client: its log lines in order; those past the restored count were acknowledged and lost
cat "$work"/log/pgbench_log.* | awk '{printf "%d %d %.6f\n", $1, $2, $5 + $6 / 1e6}' | sort -k1,1n -k2,2n > "$work/acked"
awk -v kill="$kill_ns" -v label="interval=$interval sync=$sync" '
  NR == FNR { restored[$1] = $2; next }
  { n[$1]++; total++; if (n[$1] > restored[$1]) { lost++; age = kill / 1e9 - $3;
      if (age > oldest) oldest = age; if (age > 5) old++ } }
  END { printf "crash %s acknowledged=%d lost=%d oldest_lost_ms=%.0f lost_older_than_5s=%d\n",
        label, total, lost, oldest * 1000, old }' "$work/restored.counts" "$work/acked"
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
