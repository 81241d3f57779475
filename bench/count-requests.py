#!/usr/bin/env python3
"""S3 requests per command of a kept bench/sidebyside-bench.sh run (KEEP=1), from the cloud's log.

   bench/count-requests.py WORK [NAME ...]

Each command NAME (tm-full1, pb-restore2, ...) left NAME.out (created as it started) and NAME.rss
(written by /usr/bin/time when it ended); its window is from the first's birth time to the second's
modification time, plus half a second for the log. Requests are the cloud's "request: METHOD /bucket/key?names" lines
(COUNT_REQUESTS=1) in that window, per bucket: Tidemark's WAL (<stanza>/wal/: archive-push, the
indexer, the restore's WAL prefetcher) is counted apart from the rest ("backup/restore"), and GETs
of a Tidemark backup's own objects after its manifest was stored are the cloud's validation.
"""
import datetime
import os
import re
import subprocess
import sys

work = sys.argv[1]
names = sys.argv[2:] or sorted(f[:-4] for f in os.listdir(work) if f.endswith(".rss"))
line = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d\d\d) .* - request: (\w+) /([^/?\s]+)(\S*)")
day = None
events = []
for l in open(os.path.join(work, "cloud.log"), errors="replace"):
    m = line.match(l)
    if m:
        h, mi, s, ms = (int(x) for x in m.groups()[:4])
        events.append((h * 3600 + mi * 60 + s + ms / 1000, m.group(5), m.group(6), m.group(7)))


def secs_of_day(t):
    d = datetime.datetime.fromtimestamp(t)
    return d.hour * 3600 + d.minute * 60 + d.second + d.microsecond / 1e6


for n in names:
    out = os.path.join(work, n + ".out")
    if not os.path.exists(out):
        continue
    # NAME.out is created as the command starts: its birth time (whole seconds) opens the window
    birth = int(subprocess.run(["stat", "-c", "%W", out], capture_output=True, text=True).stdout.strip() or 0)
    t0 = secs_of_day(birth)
    t1 = secs_of_day(os.path.getmtime(os.path.join(work, n + ".rss"))) + 0.5
    counts = {}
    manifest_at = None
    for t, method, bucket, rest in events:
        if not (t0 <= t <= t1):
            continue
        kind = "wal" if "/wal/" in rest else "data"
        if bucket != "pgbackrest" and method == "PUT" and rest.endswith("/manifest.json"):
            manifest_at = t
        if bucket != "pgbackrest" and method == "GET" and manifest_at is not None and "/backup/" in rest \
                and not rest.endswith("/manifest.json") and n.startswith(("tm-full", "tm-incr")):
            kind = "validation"
        key = (bucket, kind)
        c = counts.setdefault(key, {})
        c[method] = c.get(method, 0) + 1
    parts = []
    for (bucket, kind), c in sorted(counts.items()):
        parts.append("%s %s: %d (%s)" % (bucket, kind, sum(c.values()),
                                        ", ".join("%s %d" % (m, c[m]) for m in sorted(c))))
    print("%-16s %s" % (n, "; ".join(parts)))
