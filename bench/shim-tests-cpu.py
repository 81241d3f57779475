#!/usr/bin/env python3
"""Per-class wall time and CPU seconds of node-shim's test suite (docs/testing.md, "node-shim").

    python3 bench/shim-tests-cpu.py TAG [mvn args...]

Runs `./mvnw -B -o -Dtidemark.aot.skip=true -pl node-shim -am test` from this checkout, limited
to node-shim's classes (-Dtest=io/tidemark/shim/**/*Test, the upstream modules' tests skipped; compile
first), inside a cgroup v1 cpuacct group of its own (root only). Each time Surefire prints
"Running <class>" or a class's "Tests run:" line, it reads the group's CPU (everything the run
started: the test JVMs, PostgreSQL, initdb, the shim JVMs a test launches), the Surefire forks'
own CPU (/proc) and the load average. With one fork the classes run one after another, so a
class's CPU is the difference between its two lines; with more forks only the total is exact.
Writes /tmp/shim-tests-cpu-TAG/: mvn.log, events (one line per event: seconds since the start,
CPU s of the group, CPU s of the forks, load average, run-queue wait s summed over every task
sampled, the line) and summary (per class: wall s, CPU s, CPU/wall, load average at its end;
slowest first). The run-queue wait is summed over threads that run side by side, so it is no
measure of a class's lost wall time; it only shows how much the load held the run back.

SHARES=262144 puts the run in a cgroup v1 cpu group of that weight (root only; hold
/tmp/tidemark-bench.lock while timing): see below.

Why CPU seconds: the machine is shared, and a wall time measured at load 20 says little; a class
whose CPU is far below its wall time waits (sleeps, timeouts, polling) and is cut by shorter
waits, one whose CPU is close to its wall time is cut only by less work.
"""
import os, re, subprocess, sys, threading, time

tag = sys.argv[1]
extra = sys.argv[2:]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = f"/tmp/shim-tests-cpu-{tag}"
os.makedirs(out, exist_ok=True)
cg = f"/sys/fs/cgroup/cpuacct/shim-tests-{tag}"
os.makedirs(cg, exist_ok=True)
with open(f"{cg}/cgroup.procs", "w") as f:
    f.write(str(os.getpid()))
shares = os.environ.get("SHARES")
if shares:
    # cpu.shares of a cgroup v1 cpu group of its own: with the machine loaded by other builds,
    # a large weight (e.g. SHARES=262144 against 1024 per other task) gives this run nearly the
    # whole machine, so its wall times approach those of an idle one (docs/testing.md says when
    # a figure was taken this way)
    cpu_cg = f"/sys/fs/cgroup/cpu/shim-tests-{tag}"
    os.makedirs(cpu_cg, exist_ok=True)
    with open(f"{cpu_cg}/cpu.shares", "w") as f:
        f.write(shares)
    with open(f"{cpu_cg}/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
tck = os.sysconf("SC_CLK_TCK")


def group_cpu():
    with open(f"{cg}/cpuacct.usage") as f:
        return int(f.read()) / 1e9


def fork_cpu():
    total = 0.0
    with open(f"{cg}/cgroup.procs") as f:
        pids = f.read().split()
    for p in pids:
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if b"surefire" not in f.read():
                    continue
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tck
        except OSError:
            pass
    return total


sched = {}  # TID -> (run ns, run-queue wait ns), the last sample of every task the group ever had


def sample_sched():
    """Every 0.5 s: /proc/<tid>/schedstat of each task in the group (tasks that ended keep their last
    sample; a process shorter than 0.5 s is missed, which undercounts the wait a little)."""
    while True:
        try:
            with open(f"{cg}/tasks") as f:
                tids = f.read().split()
        except OSError:
            return
        for t in tids:
            try:
                with open(f"/proc/{t}/schedstat") as f:
                    r, w, _ = f.read().split()
                sched[t] = (int(r), int(w))
            except (OSError, ValueError):
                pass
        time.sleep(0.5)


def runq_wait():
    return sum(v[1] for v in list(sched.values())) / 1e9


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


cmd = ["./mvnw", "-B", "-o", "-Dtidemark.aot.skip=true", "-pl", "node-shim", "-am", "test",
       "-Dtest=io/tidemark/shim/**/*Test", "-Dsurefire.failIfNoSpecifiedTests=false"] + extra
env = dict(os.environ, JAVA_HOME=os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"))
threading.Thread(target=sample_sched, daemon=True).start()
t0 = time.time()
c0 = group_cpu()
running = re.compile(r"\[INFO\] Running (io\.tidemark\.\S+)")
done = re.compile(r"Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+), Time elapsed: ([\d.]+) s.* in (io\.tidemark\.\S+)")
starts, rows = {}, []
with open(f"{out}/mvn.log", "w") as log, open(f"{out}/events", "w") as ev:
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        log.write(line)
        m, d = running.search(line), done.search(line)
        if not (m or d):
            continue
        now, cpu, fcpu, la, rq = time.time() - t0, group_cpu() - c0, fork_cpu(), load(), runq_wait()
        ev.write(f"{now:.1f} {cpu:.1f} {fcpu:.1f} {la} {rq:.1f} {line.strip()}\n")
        ev.flush()
        if m:
            starts[m.group(1)] = (now, cpu, fcpu, rq)
        elif d.group(6) in starts:
            s = starts[d.group(6)]
            rows.append((d.group(6).rsplit(".", 1)[1], now - s[0], float(d.group(5)), cpu - s[1],
                         fcpu - s[2], la, d.group(1), d.group(2) + "/" + d.group(3), rq - s[3]))
    rc = proc.wait()
total_wall, total_cpu = time.time() - t0, group_cpu() - c0
rows.sort(key=lambda r: -r[1])
with open(f"{out}/summary", "w") as s:
    s.write(f"maven exit {rc}; wall {total_wall:.0f} s; CPU of the run {total_cpu:.0f} s; "
            f"load at end {load()}\n")
    s.write(f"sum of class wall {sum(r[1] for r in rows):.0f} s, class CPU {sum(r[3] for r in rows):.0f} s\n")
    s.write("class wall(s) surefire(s) cpu(s) forkjvm-cpu(s) cpu/wall load tests fail/err runq-wait(s) wall-less-runq(s)\n")
    for r in rows:
        s.write(f"{r[0]} {r[1]:.1f} {r[2]:.1f} {r[3]:.1f} {r[4]:.1f} {r[3] / max(r[1], 0.1):.2f} {r[5]} {r[6]} {r[7]}"
                f" {r[8]:.1f} {max(r[1] - r[8], r[3] / 2):.1f}\n")
print(open(f"{out}/summary").read())
sys.exit(rc)
