#!/usr/bin/env bash
# Archiving of one large WAL burst, Tidemark's default (asynchronous) vs pgBackRest 2.45's
# default (synchronous) and its archive-async=y, to the same S3 endpoint (local-cloud --tls), same
# compression (zstd level 1).
#
#   bench/archive-async-bench.sh [ROUNDS]     starts a local cloud, then runs ROUNDS rounds (default 3),
#                                             each Tidemark, pgBackRest default, pgBackRest async
#                                             (interleaved: background load hits all alike), then
#                                             prints the medians per tool
#   bench/archive-async-bench.sh one tidemark|pgbackrest|pgbackrest-sync CONF
#                                             one run against CONF's endpoint
#
# A throwaway cluster (16 MB segments) runs CREATE TABLE AS over generate_series, about BURST_MB
# of WAL (default 800). archive_command is wrapped by a timer that logs each call's wall time
# (bash's $EPOCHREALTIME, no fork) and, for Tidemark, whether the launcher answered from the
# spool without a JVM (TIDEMARK_LAUNCH_LOG). Tidemark: archive-push.async=true with
# archive-push.process=PROCESS (default 2, Tidemark's default); pgbackrest: archive-async=y,
# spool-path, process-max=PROCESS; pgbackrest-sync: pgBackRest's defaults (archive-async=n,
# process-max=1). Reported: WAL generation time, archive completion time (burst start until
# pg_stat_archiver has the last segment) and their ratio, per-call latency percentiles.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
burst_mb=${BURST_MB:-800}
process=${PROCESS:-2}
. "$root/bench/lib.sh"

one() {
  local tool=$1 conf=$2 work port=${PORT:-55497}
  work=$(bench_workdir asyncbench)
  # shellcheck disable=SC2064
  trap "as_pg '$bindir/pg_ctl' -D '$work/data' -m immediate stop >/dev/null 2>&1 || true; [ -n \"\${KEEP:-}\" ] || rm -rf '$work'" EXIT
  as_pg mkdir -m 700 "$work/spool"
  local real stanza=bench$$x$RANDOM
  case "$tool" in
    pgbackrest|pgbackrest-sync)
      local mode="archive-async=y
spool-path=$work/spool
process-max=$process"
      [ "$tool" = pgbackrest-sync ] && mode="archive-async=n"
      bench_pgbackrest_conf "$work" "$port" "$(bench_pgbackrest_s3_repo "$conf" /pgbackrest-$stanza)
compress-type=zst
compress-level=1
$mode" > "$work/pgbackrest.conf"
      chown postgres "$work/pgbackrest.conf" 2>/dev/null || true
      real="pgbackrest --config=$work/pgbackrest.conf --stanza=main archive-push %p"
      ;;
    tidemark)
      # a node of this run's stanza, asynchronous as by default
      bench_node_conf "$conf" "$stanza" > "$work/tidemark.conf"
      printf 'spool.dir=%s\narchive-push.async=true\narchive-push.process=%s\n' "$work/spool" "$process" >> "$work/tidemark.conf"
      chown postgres "$work/tidemark.conf" 2>/dev/null || true
      real="$root/bin/tidemark archive-push --config $work/tidemark.conf --stanza $stanza %p"
      ;;
    *) echo "unknown tool $tool" >&2; return 2 ;;
  esac
  # The timer: one line per call, "<start s> <end s> <exit code> <fast|jvm|->".
  cat > "$work/timed.sh" <<'TIMER'
#!/bin/bash
d=${0%/*}
one="$d/launch.$$"
t0=$EPOCHREALTIME
TIDEMARK_LAUNCH_LOG=$one "$@"
rc=$?
t1=$EPOCHREALTIME
kind=-
if [ -f "$one" ]; then read -r kind _ < "$one"; rm -f "$one"; fi
echo "$t0 $t1 $rc $kind" >> "$d/calls.log"
exit $rc
TIMER
  chmod 755 "$work/timed.sh"; touch "$work/calls.log"; chown postgres "$work/calls.log" 2>/dev/null || true
  bench_archiving_cluster "$work" "$port" "$work/timed.sh $real"
  case "$tool" in
    pgbackrest|pgbackrest-sync) as_pg pgbackrest --config="$work/pgbackrest.conf" --stanza=main stanza-create >/dev/null ;;
    tidemark) bench_tidemark_stanza_create "$work" "$port" "$work/tidemark.conf" "$stanza" ;;
  esac
  # warm up: the first segment starts the worker (Tidemark) / the async process (pgBackRest)
  local w; w=$(psql_ "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "select coalesce(last_archived_wal, '') >= '$w' from pg_stat_archiver")" = t ]; do sleep 0.1; done
  : > "$work/calls.log"

  local rows=$(( burst_mb * 1024 * 1024 / 100 ))   # about 100 bytes of WAL per row (heap insert records)
  local t0 t_gen t_done last
  t0=$(date +%s%N)
  psql_ "create table burst as select g as id, md5(g::text) as v from generate_series(1, $rows) g" >/dev/null
  t_gen=$(date +%s%N)
  last=$(psql_ "select pg_walfile_name(pg_switch_wal())")
  until [ "$(psql_ "select coalesce(last_archived_wal, '') >= '$last' from pg_stat_archiver")" = t ]; do sleep 0.05; done
  t_done=$(date +%s%N)
  local failed; failed=$(psql_ "select failed_count from pg_stat_archiver")
  local shown=$process; [ "$tool" = pgbackrest-sync ] && shown=1
  echo "tool=$tool process=$shown burst_rows=$rows calls=$(wc -l < "$work/calls.log") failed_calls=$failed load=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wal_generation_s=$(echo "scale=2; ($t_gen - $t0)/1000000000" | bc) archive_completion_s=$(echo "scale=2; ($t_done - $t0)/1000000000" | bc) ratio=$(echo "scale=3; ($t_done - $t0)/($t_gen - $t0)" | bc)"
  pct() { awk '{print ($2-$1)*1000}' | sort -n | awk -v label="$1" '{a[NR]=$1} END {if (NR) printf "%s p50=%.1f p95=%.1f max=%.1f n=%d\n", label, a[int(NR*0.5)+1], a[int(NR*0.95)+1], a[NR], NR; else print label " n=0"}'; }
  pct "call_ms(all)" < "$work/calls.log"
  if [ "$tool" = tidemark ]; then
    # Answers from the spool in isolation: PostgreSQL's archiver paused (archive_command=''),
    # about 160 MB of WAL written, the worker (still running) pushes it; archiving resumes and
    # every call finds its file already pushed.
    cp "$work/calls.log" "$work/burst.log"
    psql_ "alter system set archive_command = ''" >/dev/null; psql_ "select pg_reload_conf()" >/dev/null; sleep 1
    local from upto
    from=$(psql_ "select pg_walfile_name(pg_current_wal_lsn())")
    psql_ "create table paused as select g as id, md5(g::text) as v from generate_series(1, 1600000) g" >/dev/null
    upto=$(psql_ "select pg_walfile_name(pg_switch_wal())")
    local sdir="$work/spool/$stanza/archive" n=0 r pending=1
    while [ $pending = 1 ]; do
      pending=0
      for r in "$work"/data/pg_wal/archive_status/*.ready; do
        [ -e "$r" ] || continue
        r=${r##*/}; [ -e "$sdir/${r%.ready}.ok" ] || pending=1
      done
      [ $pending = 0 ] && break
      sleep 0.2; n=$((n + 1)); [ $n -lt 600 ] || { echo "the worker did not push ahead" >&2; break; }
    done
    : > "$work/calls.log"
    psql_ "alter system reset archive_command" >/dev/null; psql_ "select pg_reload_conf()" >/dev/null
    until [ "$(psql_ "select coalesce(last_archived_wal, '') >= '$upto' from pg_stat_archiver")" = t ]; do sleep 0.05; done
    pct "call_ms(resumed after the worker pushed ahead: $from..$upto)" < "$work/calls.log"
    cut -d' ' -f4 "$work/calls.log" | sort | uniq -c | tr '\n' ' '; echo
    mv "$work/burst.log" "$work/calls.log"
    { grep ' fast$' "$work/calls.log" || true; } | pct "call_ms(already pushed: answered from the spool, no JVM)"
    { grep ' wait$' "$work/calls.log" || true; } | pct "call_ms(waited in the launcher for the worker, no JVM)"
    { grep ' jvm$' "$work/calls.log" || true; } | pct "call_ms(JVM)"
  fi
}

if [ "${1:-}" = one ]; then
  one "${2:?tidemark|pgbackrest}" "${3:?CONF}"
  exit
fi
rounds=${1:-3}
tools=${TOOLS:-tidemark pgbackrest-sync pgbackrest}
work=$(bench_workdir asyncbench-cloud)
cloud_pid=
trap '[ -n "$cloud_pid" ] && kill "$cloud_pid" 2>/dev/null && wait "$cloud_pid" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
bench_start_cloud "$work"
for r in $(seq 1 "$rounds"); do
  echo "== round $r"
  for t in $tools; do
    (one "$t" "$conf") | tee -a "$work/results"
  done
done
# Medians per tool over the rounds (each run's "tool=", "wal_generation_s=" and "call_ms(all)" lines).
echo "== medians of $rounds rounds"
awk '
  /^tool=/ { split($1, a, "="); tool = a[2]; n[tool]++; sub(/.*load=/, ""); load[tool] = load[tool] " [" $0 "]" }
  /^wal_generation_s=/ { for (i = 1; i <= 3; i++) { split($i, kv, "="); v[tool, kv[1], n[tool]] = kv[2] } }
  /^call_ms\(all\)/ { for (i = 2; i <= 3; i++) { split($i, kv, "="); v[tool, kv[1], n[tool]] = kv[2] } }
  function median(t, k,   i, j, m, x, c) {
    c = 0; for (i = 1; i <= n[t]; i++) if ((t, k, i) in v) x[++c] = v[t, k, i] + 0
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (x[j] < x[i]) { m = x[i]; x[i] = x[j]; x[j] = m }
    return c == 0 ? "-" : (c % 2 ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2)
  }
  END {
    for (t in n) printf "%s runs=%d wal_generation_s=%s archive_completion_s=%s ratio=%s call_p50_ms=%s call_p95_ms=%s load(1/5/15 min at each run end)=%s\n",
      t, n[t], median(t, "wal_generation_s"), median(t, "archive_completion_s"), median(t, "ratio"),
      median(t, "p50"), median(t, "p95"), load[t]
  }' "$work/results"
