package io.tidemark.shim.expire;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;

/** The text form of {@code tidemark expire --dry-run}: what would go, what stays and why, the window. */
final class ExpireText {
    private ExpireText() {
    }

    static void print(JsonNode doc, PrintStream out) {
        JsonNode p = doc.path("policy");
        out.println("stanza " + doc.path("stanza").asText() + ": retention preview (dry run, nothing deleted)");
        out.println("  policy             full by " + p.path("fullType").asText("?") + " " + p.path("full").asText("?")
                + ("time".equals(p.path("fullType").asText()) ? " days" : "") + ", diff " + p.path("diff").asText("?"));
        out.println("  as of              " + doc.path("now").asText("?"));
        out.println();
        JsonNode deletions = doc.path("deletions");
        if (deletions.isEmpty()) {
            out.println("nothing to expire");
        } else {
            out.println("would remove");
            for (JsonNode d : deletions) {
                String what = switch (d.path("kind").asText()) {
                    case "backup" -> "backup  " + d.path("label").asText() + " (" + d.path("status").asText("?") + ")";
                    case "orphan" -> "orphan  " + d.path("label").asText() + " (" + d.path("objects").asText("?")
                            + " objects, no catalog entry)";
                    case "wal" -> "WAL     " + d.path("from").asText() + " .. " + d.path("through").asText() + " ("
                            + d.path("segments").asText("?") + " segments)";
                    default -> d.path("kind").asText("?");
                };
                out.println("  " + what + "  " + size(d.path("bytes").asLong()));
                out.println("      " + d.path("reason").asText(""));
            }
            out.println("  total              " + size(doc.path("bytes").asLong()) + " in " + deletions.size()
                    + (deletions.size() == 1 ? " deletion" : " deletions"));
        }
        JsonNode kept = doc.path("kept");
        if (!kept.isEmpty()) {
            out.println();
            out.println("kept backups");
            for (JsonNode k : kept) {
                out.println("  " + k.path("label").asText() + "  " + k.path("reason").asText(""));
            }
        }
        JsonNode held = doc.path("heldBack");
        if (held.isArray() && !held.isEmpty()) {
            out.println();
            out.println("held back by the cap on fulls per run (an operator confirms a run to expire them)");
            for (JsonNode l : held) {
                out.println("  " + l.asText());
            }
        }
        JsonNode notes = doc.path("notes");
        if (!notes.isEmpty()) {
            out.println();
            out.println("notes");
            for (JsonNode n : notes) {
                out.println("  " + n.asText());
            }
        }
        out.println();
        out.println("recovery window now   " + window(doc.path("windowBefore")));
        out.println("recovery window after " + window(doc.path("windowAfter")));
    }

    private static String window(JsonNode w) {
        if (w.path("earliest").isNull() || w.path("earliest").isMissingNode()) {
            return "none (needs a valid backup and the WAL after it)";
        }
        return point(w.path("earliest")) + "  ..  " + point(w.path("latest"));
    }

    private static String point(JsonNode p) {
        if (p.isMissingNode() || p.isNull()) {
            return "-";
        }
        String time = p.path("time").isNull() || p.path("time").isMissingNode() ? "?" : p.path("time").asText();
        return time + " (LSN " + p.path("lsn").asText("?") + ")";
    }

    /** Bytes for people: 1536 -> "1.5 KiB"; exact bytes stay in the JSON form. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
