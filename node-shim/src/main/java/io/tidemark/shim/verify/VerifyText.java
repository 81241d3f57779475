package io.tidemark.shim.verify;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;

/** The text form of a finished verify run: what was checked, then each problem (key, expected, found). */
final class VerifyText {

    private VerifyText() {
    }

    static void print(JsonNode run, PrintStream out) {
        String scope = run.path("backup").isTextual() ? "backup " + run.path("backup").asText() + " and its chain"
                : "every object";
        out.println("verify " + run.path("id").asText() + " of stanza " + run.path("stanza").asText() + " (" + scope
                + "): " + run.path("state").asText());
        out.println("  checked            " + run.path("checked").asLong() + " of " + run.path("objects").asLong()
                + " objects, " + run.path("bytes").asLong() + " stored bytes read, in " + run.path("batches").asLong()
                + " batches");
        out.println("  started            " + run.path("createdAt").asText());
        out.println("  finished           " + run.path("finishedAt").asText("-"));
        long count = run.path("problemCount").asLong();
        JsonNode problems = run.path("problems");
        if (count == 0 && "complete".equals(run.path("state").asText())) {
            out.println();
            out.println("no problems: every object is there, with the size and SHA-256 recorded, WAL is contiguous"
                    + " and every backup's chain is complete");
            return;
        }
        out.println();
        out.println(count + " problem" + (count == 1 ? "" : "s"));
        for (JsonNode p : problems) {
            out.println("  " + p.path("key").asText());
            out.println("      " + p.path("check").asText() + ": expected " + p.path("expected").asText());
            out.println("      " + " ".repeat(p.path("check").asText().length()) + "  found    "
                    + p.path("found").asText());
        }
        if (problems.size() < count) {
            out.println("  ... and " + (count - problems.size()) + " more (the catalog keeps them all for 30 days)");
        }
    }
}
