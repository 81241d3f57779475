package io.tidemark.shim.info;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/** The text form of {@code tidemark info}: one block per timeline; gaps are shouted. */
final class InfoText {
    private InfoText() {
    }

    static void print(JsonNode doc, InfoCommand.Lag lag, PrintStream out) {
        print(doc, lag, java.time.Instant.now(), out);
    }

    static void print(JsonNode doc, InfoCommand.Lag lag, java.time.Instant now, PrintStream out) {
        out.println("stanza " + doc.path("stanza").asText());
        out.println("  system identifier  " + doc.path("systemIdentifier").asText());
        out.println("  PostgreSQL         " + doc.path("pgVersion").asText() + " (" + doc.path("pgVersionNum").asText() + ")");
        long seg = doc.path("walSegmentSize").asLong();
        out.println("  WAL segment size   " + (seg >= 1 << 20 ? (seg >> 20) + " MB" : seg + " bytes"));
        out.println("  created            " + doc.path("createdAt").asText("?"));
        int gaps = 0;
        JsonNode timelines = doc.path("timelines");
        if (timelines.isEmpty()) {
            out.println();
            out.println("no WAL archived yet");
        }
        for (JsonNode t : timelines) {
            out.println();
            StringBuilder head = new StringBuilder("timeline " + t.path("timeline").asText());
            if (!t.path("parent").isNull() && !t.path("parent").isMissingNode()) {
                head.append(" (branched from timeline ").append(t.path("parent").asText())
                        .append(" at ").append(t.path("switchPoint").asText("?")).append(')');
            }
            out.println(head);
            for (JsonNode range : t.path("walRanges")) {
                out.println("  archived           " + range.path("start").asText() + " .. " + range.path("end").asText());
            }
            for (JsonNode gap : t.path("gaps")) {
                gaps++;
                out.println("  !!! GAP !!!        " + gap.path("start").asText() + " .. " + gap.path("end").asText()
                        + " MISSING: recovery cannot cross this gap" + droppedIn(doc, gap) + lostIn(t, gap));
            }
            for (JsonNode lost : t.path("lostWal")) {
                out.println("  !!! LOST !!!       " + lost.path("start").asText() + " .. " + lost.path("end").asText()
                        + " archived, then deleted or damaged in the bucket: no longer restorable");
            }
            out.println("  segments           " + t.path("segments").asText("0"));
            out.println("  last segment       " + t.path("lastSegment").asText("-") + " (end LSN "
                    + t.path("endLsn").asText("?") + ")");
            out.println("  last archived at   " + text(t.path("lastArchivedAt")));
            out.println("  last commit time   " + text(t.path("lastCommitTime")));
        }
        JsonNode partials = doc.path("partials");
        if (!partials.isEmpty()) {
            out.println();
            out.println("partial segments");
            for (JsonNode p : partials) {
                out.println("  " + p.asText());
            }
        }
        JsonNode histories = doc.path("histories");
        if (!histories.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode h : histories) {
                sb.append(sb.isEmpty() ? "" : ", ").append(h.asText());
            }
            out.println();
            out.println("timeline histories " + sb);
        }
        printWindow(doc.path("window"), now, out);
        JsonNode backups = doc.path("backups");
        if (backups.isArray() && !backups.isEmpty()) {
            out.println();
            out.println("backups");
            for (JsonNode b : backups) {
                out.println("  " + b.path("label").asText() + "  " + b.path("type").asText("?") + "  "
                        + b.path("status").asText("?") + "  " + text(b.path("startTime")) + " .. " + text(b.path("stopTime"))
                        + "  WAL " + text(b.path("startLsn")) + " .. " + text(b.path("stopLsn"))
                        + "  original " + text(b.path("originalSize")) + ", stored " + text(b.path("storedSize"))
                        + ", delta " + text(b.path("deltaSize")) + " bytes"
                        + (b.path("prior").isTextual() ? "  prior " + b.path("prior").asText() : ""));
                if (!"valid".equals(b.path("status").asText())) {
                    for (JsonNode r : b.path("reasons")) {
                        out.println("      " + r.asText());
                    }
                }
            }
        }
        printJobs(doc.path("jobs"), out);
        printVerify(doc.path("verify"), out);
        printDrill(doc.path("lastDrill"), out);
        out.println();
        out.println("archive lag        " + (lag.seconds() == null ? "unknown" : lag.seconds() + " s since the last archived segment")
                + ", " + (lag.bytes() == null ? "bytes unknown (" + lag.bytesUnknownBecause() + ")"
                : lag.bytes() + " bytes of WAL not yet archived"));
        if (gaps > 0) {
            out.println();
            out.println("WARNING: " + gaps + " gap" + (gaps == 1 ? "" : "s")
                    + " in the WAL archive: point-in-time recovery cannot cross " + (gaps == 1 ? "it" : "them") + ".");
        }
        printLost(doc.path("lostObjects"), out);
        printRetention(doc.path("retention"), doc.path("futureWalTimes"), out);
        JsonNode dropped = doc.path("droppedWal");
        if (!dropped.isEmpty()) {
            out.println();
            out.println("WARNING: this node's archive-push DROPPED " + dropped.size() + " WAL file(s) without archiving them ("
                    + dropped.get(0).path("file").asText() + (dropped.size() > 1 ? " .. " + dropped.get(dropped.size() - 1)
                    .path("file").asText() : "") + ", first at " + dropped.get(0).path("droppedAt").asText() + "): "
                    + dropped.get(0).path("reason").asText());
        }
    }

    /** " (LOST: ...)" when segments inside the gap were archived once and are lost since. */
    private static String lostIn(JsonNode timeline, JsonNode gap) {
        String start = gap.path("start").asText();
        String end = gap.path("end").asText();
        for (JsonNode l : timeline.path("lostWal")) {
            if (l.path("start").asText().compareTo(end) <= 0 && l.path("end").asText().compareTo(start) >= 0) {
                return " (archived once, LOST from the bucket since)";
            }
        }
        return "";
    }

    /** Objects that were archived and are gone or damaged now: each with its reason, then a warning. */
    private static void printLost(JsonNode lost, PrintStream out) {
        if (!lost.isArray() || lost.isEmpty()) {
            return;
        }
        out.println();
        out.println("WARNING: " + lost.size() + " archived object" + (lost.size() == 1 ? " is" : "s are")
                + " LOST (deleted from the bucket or damaged); the recovery window excludes what needs "
                + (lost.size() == 1 ? "it" : "them") + ":");
        for (JsonNode o : lost) {
            out.println("  " + o.path("key").asText() + "  " + o.path("status").asText().toUpperCase(java.util.Locale.ROOT)
                    + "  since " + text(o.path("lostAt")) + "  " + text(o.path("problem")));
        }
    }

    /** " (dropped by ...)" when this node's spool recorded dropping files inside the gap. */
    private static String droppedIn(JsonNode doc, JsonNode gap) {
        String start = gap.path("start").asText();
        String end = gap.path("end").asText();
        int n = 0;
        for (JsonNode d : doc.path("droppedWal")) {
            String f = d.path("file").asText();
            String seg = f.length() >= 24 ? f.substring(0, 24) : f;
            if (seg.length() == start.length() && seg.compareTo(start) >= 0 && seg.compareTo(end) <= 0) {
                n++;
            }
        }
        return n == 0 ? "" : " (" + n + " file(s) DROPPED by archive-push.queue-max on this node)";
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? "-" : n.asText();
    }

    /** The newest finished verify run and the last clean one ({@code tidemark verify}, or the daily run). */
    private static void printVerify(JsonNode v, PrintStream out) {
        out.println();
        if (!v.isObject()) {
            out.println("last verified      never (tidemark verify checks every archived object)");
            return;
        }
        long problems = v.path("problems").asLong();
        String scope = v.path("backup").isTextual() ? " (backup " + v.path("backup").asText() + ")" : "";
        out.println("last verified      " + text(v.path("finishedAt")) + scope + ": " + v.path("state").asText("?")
                + ", " + v.path("checked").asLong() + " objects checked, "
                + (problems == 0 ? "no problems" : problems + " PROBLEM" + (problems == 1 ? "" : "S")
                + " (tidemark verify lists them)"));
        out.println("last clean verify  " + (v.path("lastCleanAt").isTextual() ? v.path("lastCleanAt").asText()
                : "never"));
    }

    /**
     * Warnings from the cloud's guards: fulls retention's cap holds until an operator confirms a
     * run (docs/retention.md#floors), and WAL whose commit times were ahead of its arrival, not
     * used for the window (docs/catalog.md#future-commit-times).
     */
    private static void printRetention(JsonNode retention, JsonNode future, PrintStream out) {
        JsonNode held = retention.path("heldBack");
        if (held.isArray() && !held.isEmpty()) {
            StringBuilder labels = new StringBuilder();
            held.forEach(l -> labels.append(labels.isEmpty() ? "" : ", ").append(l.asText()));
            out.println();
            out.println("WARNING: retention (run at " + text(retention.path("at")) + ") HELD BACK " + held.size()
                    + " full backup" + (held.size() == 1 ? "" : "s") + " beyond its cap per run: " + labels
                    + "; an operator confirms with the retention function and {\"confirm\": true}");
        }
        if (future.path("count").asLong() > 0) {
            JsonNode segs = future.path("segments");
            out.println();
            out.println("WARNING: " + future.path("count").asLong() + " WAL segment"
                    + (future.path("count").asLong() == 1 ? " has" : "s have")
                    + " commit times ahead of their arrival in the bucket (newest " + segs.path(0).asText("?")
                    + "): those times are not used for the recovery window or time targets");
        }
    }

    /** The newest restore drill ({@code tidemark drill}, docs/drills.md): result, RTO, failed checks. */
    private static void printDrill(JsonNode d, PrintStream out) {
        if (!d.isObject()) {
            out.println("last drill         never (tidemark drill --now restores the latest backup and measures the RTO)");
            return;
        }
        String rto = d.path("promotedMs").isNumber()
                ? String.format(java.util.Locale.ROOT, "%.1f s", d.path("promotedMs").asLong() / 1000.0) : "-";
        out.println("last drill         " + d.path("drillId").asText() + " " + d.path("result").asText().toUpperCase(
                java.util.Locale.ROOT) + " on " + d.path("node").asText() + ": backup " + d.path("backup").asText("-")
                + ", target " + d.path("target").asText() + ", RTO " + rto);
        for (JsonNode c : d.path("checks")) {
            if (c.path("status").asText().equals("failed")) {
                out.println("    failed check " + c.path("name").asText() + ": " + c.path("message").asText());
            }
        }
    }

    /** The newest scheduled backup jobs, newest first: state, type, who ran it or why not. */
    private static void printJobs(JsonNode jobs, PrintStream out) {
        if (!jobs.isArray() || jobs.isEmpty()) {
            return;
        }
        out.println();
        out.println("backup jobs (newest first)");
        for (JsonNode j : jobs) {
            String state = j.path("state").asText("?");
            StringBuilder line = new StringBuilder("  " + j.path("jobId").asText() + "  " + j.path("type").asText("?")
                    + "  " + state);
            if (j.path("holder").isTextual()) {
                line.append("  on ").append(j.path("holder").asText());
            }
            boolean drill = "drill".equals(j.path("type").asText());
            if ("done".equals(state) && drill) {
                // a drill job: its label is the backup the drill restored (the drill itself is "last drill")
                line.append("  drilled backup ").append(text(j.path("label"))).append(" in ")
                        .append(j.path("durationMs").isNumber() ? String.format(java.util.Locale.ROOT, "%.1f s",
                                j.path("durationMs").asLong() / 1000.0) : "-");
            } else if ("done".equals(state)) {
                line.append("  backup ").append(text(j.path("label"))).append(", stored ")
                        .append(text(j.path("storedSize"))).append(" bytes in ")
                        .append(j.path("durationMs").isNumber() ? String.format(java.util.Locale.ROOT, "%.1f s",
                                j.path("durationMs").asLong() / 1000.0) : "-");
            }
            if (!j.path("passedBy").isEmpty()) {
                StringBuilder p = new StringBuilder();
                j.path("passedBy").forEach(x -> p.append(p.isEmpty() ? "" : ", ").append(x.asText()));
                line.append(drill ? "  (passed by " : "  (left by replica ").append(p).append(')');
            }
            out.println(line);
            if ("failed".equals(state)) {
                out.println("      error: " + text(j.path("error")));
            } else if ("queued".equals(state)) {
                out.println("      deadline " + text(j.path("deadline")) + "; " + text(j.path("reason")));
            }
        }
    }

    /** The recovery window: what can be restored to, like RDS's earliest/latest restorable time. */
    private static void printWindow(JsonNode w, java.time.Instant now, PrintStream out) {
        if (w.isMissingNode() || w.isNull()) {
            return;
        }
        out.println();
        if (w.path("earliest").isNull() || w.path("earliest").isMissingNode()) {
            out.println("recovery window    none yet (needs a valid backup and the WAL after it)");
            return;
        }
        out.println("recovery window    " + point(w.path("earliest")) + "  ..  " + point(w.path("latest")));
        latestRestorable(w.path("latest"), now, out);
        for (JsonNode t : w.path("timelines")) {
            out.println("  timeline " + t.path("timeline").asText() + "         " + point(t.path("earliest")) + "  ..  "
                    + point(t.path("latest")));
        }
        for (JsonNode g : w.path("gaps")) {
            out.println("  !!! not restorable: timeline " + g.path("timeline").asText() + " from " + point(g.path("from"))
                    + " to " + point(g.path("to")));
        }
        for (JsonNode b : w.path("breaks")) {
            out.println("  !!! WAL GAP !!!    timeline " + b.path("from").path("timeline").asText() + " from "
                    + point(b.path("from")) + " to LSN " + b.path("to").path("lsn").asText() + " is missing; WAL"
                    + " continues there on timeline " + b.path("to").path("timeline").asText() + ", but the window of"
                    + " timeline " + b.path("timeline").asText() + " ends before the gap");
        }
        if (!w.path("breaks").isEmpty()) {
            out.println("WARNING: WAL is missing past the recovery window's end (a replication slot dropped before its"
                    + " WAL was archived, or a failover whose old timeline's WAL ends before the switch point): restores"
                    + " cannot go past it until the missing segments are archived; a backup after it starts a new window");
        }
    }

    /**
     * How far the newest restorable commit trails now, as RDS shows LatestRestorableTime: with
     * streamed WAL (issue 17) seconds, with archived segments alone up to archive_timeout.
     */
    private static void latestRestorable(JsonNode latest, java.time.Instant now, PrintStream out) {
        if (latest.isMissingNode() || latest.isNull()) {
            return;
        }
        if (latest.path("time").isNull() || latest.path("time").isMissingNode()) {
            // an idle cluster: no commit archived after the backup, so a time target has no commit
            // after it to stop at, and the planner refuses it; the other targets are restorable
            out.println("latest restorable  no commit archived in the window yet: restore to latest, an LSN or"
                    + " --target-immediate; --target-time needs a commit after the time");
            return;
        }
        try {
            java.time.Instant t = java.time.Instant.parse(latest.path("time").asText());
            long ago = Math.max(0, java.time.Duration.between(t, now).toSeconds());
            out.println("latest restorable  " + t + " (" + ago + " s ago)");
        } catch (java.time.format.DateTimeParseException e) {
            // shown as given in the window line above
        }
    }

    private static String point(JsonNode p) {
        if (p.isMissingNode() || p.isNull()) {
            return "-";
        }
        String time = p.path("time").isNull() || p.path("time").isMissingNode() ? "?" : p.path("time").asText();
        return time + " (LSN " + p.path("lsn").asText("?") + ")";
    }
}
