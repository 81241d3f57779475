#!/usr/bin/env bash
# The CPU a whole CI run uses, per Maven module: runs `.ci/run` of a checkout inside a cgroup v1
# cpuacct group (root only), samples the group's CPU every 5 s, then splits it by module using the
# reactor summary's times (the modules run one after another). What it answers: how far the
# suite's CPU alone is from the 10-minute budget on 2 cores (docs/testing.md, issue 15).
#
#   bench/ci-cpu.sh CHECKOUT OUT_DIR      # e.g. a fresh clone, as CI runs it
#   bench/ci-cpu.sh --report OUT_DIR      # the split again, from a finished run's files
#
# Writes OUT_DIR/ci-run.out (the run's output), cpu.samples (epoch s, CPU ns, load average),
# rc.out (exit code, wall s, CPU s). Processes the run leaves behind stay in the group until they
# end; the group is removed when it is empty.
set -u
report() {
  python3 - "$1" <<'PY'
import re, sys
out = sys.argv[1]
samples = [tuple(map(float, l.split()[:2])) for l in open(out + "/cpu.samples") if len(l.split()) >= 2]
log = open(out + "/ci-run.out").read()
first = log.split("Reactor Summary", 1)[1] if "Reactor Summary" in log else ""
first = first.split("BUILD ", 1)[0]
mods = re.findall(r"\] (\S.*?) \.+ (?:SUCCESS|FAILURE) \[\s*([\d:.]+) (min|s)\]", first)
def secs(v, u):
    if u == "min":
        m, s = v.split(":")
        return int(m) * 60 + float(s)
    return float(v)
def cpu_at(ts):
    best = 0.0
    for t, c in samples:
        if t <= ts:
            best = c
    return best / 1e9
verify_end = None
m = re.search(r"Total time:\s+([\d:.]+) (min|s)\n\[INFO\] Finished at: (\S+)", log)
import datetime
if m:
    verify_end = datetime.datetime.fromisoformat(m.group(3).replace("Z", "+00:00")).timestamp()
if verify_end is None:
    verify_end = samples[-1][0]
durs = [(n, secs(v, u)) for n, v, u in mods]
t = verify_end - sum(d for _, d in durs)
print(f"{'module':28s} {'wall s':>8s} {'CPU s':>8s} {'cores busy':>10s}")
tot_w = tot_c = 0
for n, d in durs:
    c = cpu_at(t + d) - cpu_at(t)
    print(f"{n:28s} {d:8.1f} {c:8.1f} {c / d if d else 0:10.2f}")
    tot_w += d; tot_c += c; t += d
print(f"{'./mvnw verify':28s} {tot_w:8.1f} {tot_c:8.1f} {tot_c / tot_w:10.2f}")
print(f"{'whole run (cgroup)':28s} {samples[-1][0] - samples[0][0]:8.1f} {samples[-1][1] / 1e9:8.1f}")
PY
}
if [ "${1:-}" = --report ]; then
  report "${2:?usage: bench/ci-cpu.sh --report OUT_DIR}"
  exit
fi
checkout=${1:?usage: bench/ci-cpu.sh CHECKOUT OUT_DIR}
out=${2:?usage: bench/ci-cpu.sh CHECKOUT OUT_DIR}
mkdir -p "$out"
cg=/sys/fs/cgroup/cpuacct/ci-cpu-$$
mkdir "$cg" || { echo "bench/ci-cpu.sh: needs root and cgroup v1 cpuacct" >&2; exit 2; }
echo $$ > "$cg/cgroup.procs"
( while [ -d "$cg" ]; do echo "$(date +%s) $(cat "$cg/cpuacct.usage" 2>/dev/null) $(cut -d' ' -f1 /proc/loadavg)"; sleep 5; done ) > "$out/cpu.samples" &
sampler=$!
start=$(date +%s)
(cd "$checkout" && env -u JAVA_HOME CI=true bash .ci/run) > "$out/ci-run.out" 2>&1
rc=$?
echo "rc=$rc secs=$(( $(date +%s) - start )) cpu_s=$(( $(cat "$cg/cpuacct.usage") / 1000000000 ))" > "$out/rc.out"
kill "$sampler" 2>/dev/null
echo $$ > /sys/fs/cgroup/cpuacct/cgroup.procs
rmdir "$cg" 2>/dev/null || true
report "$out"
