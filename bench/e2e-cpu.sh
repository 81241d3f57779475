#!/usr/bin/env bash
# Where an e2e test class spends CPU: every JVM the packaged launcher starts (archive-push,
# archive-get, backup, restore, info...), with its wall and CPU time, and the CPU of the whole
# run (test JVM with the local cloud, PostgreSQL, the shim's resident JVMs). CPU seconds, not
# wall time, are what compare on a machine that other builds load (docs/testing.md, "Time").
#
#   bench/e2e-cpu.sh TESTCLASS [TAG [mvn args...]]
#
# Runs `./mvnw -B -o -pl e2e -am verify -Dtest=TESTCLASS` from this checkout (add
# -Dtidemark.aot.skip=true when the shim is already packaged: the launcher keeps using the AOT
# caches while the jar is older than them). Writes /tmp/e2e-cpu-TAG/: mvn.log, jvm.log (one line
# per JVM: wall s, user s, sys s, user, exit code, last arguments), launch.log
# (TIDEMARK_LAUNCH_LOG: also the launches the bash fast paths answered), summary.
#
# How: TIDEMARK_JAVA_HOME points the launcher at a wrapper JDK whose bin/java runs the real one
# under /usr/bin/time; the environment reaches PostgreSQL's archive and restore commands
# (testkit starts PostgreSQL through runuser, which keeps it). JVMs that the shim starts itself
# (the asynchronous archive worker, the prefetcher) use the real JDK and are not in jvm.log; they
# are in the total. The total is a cgroup v1 cpuacct group around the Maven run (root only),
# read when Surefire starts the class and when Maven ends; without cgroup v1 it is left out.
set -uo pipefail
test_class=${1:?usage: bench/e2e-cpu.sh TESTCLASS [TAG [mvn args...]]}
tag=${2:-$test_class}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(cd "$(dirname "$0")/.." && pwd)
real_home=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
out=/tmp/e2e-cpu-$tag
rm -rf "$out"; mkdir -p "$out/jdk/bin"; chmod 755 "$out" "$out/jdk" "$out/jdk/bin"
touch "$out/jvm.log" "$out/launch.log"; chmod 666 "$out/jvm.log" "$out/launch.log"
cp "$real_home/release" "$out/jdk/release" # the launcher reads the Java version from it
cat > "$out/jdk/bin/java" <<EOF
#!/usr/bin/env bash
t=\$(mktemp /tmp/e2e-cpu-time.XXXXXX)
/usr/bin/time -f "%e %U %S" -o "\$t" "$real_home/bin/java" "\$@"
rc=\$?
echo "\$(tail -1 "\$t") \$(id -un) rc=\$rc \${*: -8}" >> "$out/jvm.log"
rm -f "\$t"
exit \$rc
EOF
chmod 755 "$out/jdk/bin/java"

cg=
if [ -w /sys/fs/cgroup/cpuacct ] && mkdir "/sys/fs/cgroup/cpuacct/e2e-cpu-$tag" 2>/dev/null; then
  cg=/sys/fs/cgroup/cpuacct/e2e-cpu-$tag
  echo $$ > "$cg/cgroup.procs"
fi
sample() { echo "$(date +%s.%N) $([ -n "$cg" ] && cat "$cg/cpuacct.usage" || echo 0) $(cut -d' ' -f1 /proc/loadavg)"; }
# the shim's resident JVMs (archive-push-worker, archive-get-prefetch), which the wrapper does not
# see: every 0.5 s, each one's CPU so far (utime+stime), the last value per pid kept in resident.log
tck=$(getconf CLK_TCK)
resident() {
  local p c
  for p in $(pgrep -f 'io.tidemark.shim.Main (archive-push-worker|archive-get-prefetch)' 2>/dev/null); do
    # only this run's (other builds on the machine run workers too): those in its cgroup
    [ -z "$cg" ] || grep -q "e2e-cpu-$tag" "/proc/$p/cgroup" 2>/dev/null || continue
    c=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -oE 'archive-push-worker|archive-get-prefetch' | head -1)
    [ -n "$c" ] && awk -v p="$p" -v c="$c" -v t="$tck" '{print p, c, ($14 + $15) / t}' "/proc/$p/stat" 2>/dev/null
  done >> "$out/resident.samples"
}
(
  while [ ! -e "$out/done" ]; do
    if [ ! -e "$out/start" ] && grep -q "Running io.tidemark" "$out/mvn.log" 2>/dev/null; then sample > "$out/start"; fi
    resident
    sleep 0.5
  done
) &
watcher=$!
cd "$root"
JAVA_HOME=$real_home TIDEMARK_JAVA_HOME=$out/jdk TIDEMARK_LAUNCH_LOG=$out/launch.log \
  ./mvnw -B -o -pl e2e -am verify -Dtest="$test_class" -Dsurefire.failIfNoSpecifiedTests=false "$@" > "$out/mvn.log" 2>&1
rc=$?
sample > "$out/end"; touch "$out/done"; wait "$watcher"
[ -e "$out/start" ] || cp "$out/end" "$out/start"
read -r s0 c0 l0 < "$out/start"; read -r s1 c1 l1 < "$out/end"
{
  echo "maven exit $rc; from the class's start: wall $(echo "$s1 - $s0" | bc) s, load average $l0 .. $l1"
  [ -n "$cg" ] && echo "CPU of everything the run started: $(echo "scale=1; ($c1 - $c0) / 1000000000" | bc) s"
  grep -E "Tests run:.*in io" "$out/mvn.log"
  echo "JVMs started by the launcher (wall and CPU per call, CPU total):"
  awk '{cmd="?"
        for (i = 5; i <= NF; i++) if ($i ~ /^(archive-push|archive-get|backup|info|restore|stanza-create|verify|drill|expire|check)$/) { cmd = $i; break }
        if (cmd == "?" && $0 ~ /--plan|RECOVERY|pg_wal\//) cmd = "archive-get"
        if (cmd == "?" && $0 ~ /--pgdata/) cmd = "restore"
        n[cmd]++; w[cmd] += $1; c[cmd] += $2 + $3; t += $2 + $3}
       END {for (k in n) printf "  %-14s %4d  wall %.2f s  CPU %.2f s  CPU total %.1f s\n", k, n[k], w[k]/n[k], c[k]/n[k], c[k]
            printf "  all            CPU total %.1f s\n", t}' "$out/jvm.log"
  echo "resident JVMs the shim started (CPU sampled every 0.5 s; the last half second of each is missed):"
  [ -s "$out/resident.samples" ] && awk '{last[$1] = $3; cmd[$1] = $2}
       END {for (p in last) {n[cmd[p]]++; c[cmd[p]] += last[p]}
            for (k in n) printf "  %-20s %4d  CPU total %.1f s\n", k, n[k], c[k]}' "$out/resident.samples"
  echo "launches (TIDEMARK_LAUNCH_LOG):"
  awk '{print "  " $1, $2}' "$out/launch.log" | sort | uniq -c
} | tee "$out/summary"
if [ -n "$cg" ]; then
  echo $$ > /sys/fs/cgroup/cpuacct/cgroup.procs
  rmdir "$cg" 2>/dev/null
fi
exit $rc
