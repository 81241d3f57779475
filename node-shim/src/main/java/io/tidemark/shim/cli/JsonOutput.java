package io.tidemark.shim.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.tidemark.events.json.Json;
import java.io.IOException;
import java.io.PrintStream;

/** {@code --output json}: the document, indented, on one stream; a failure to write it is a command failure. */
public final class JsonOutput {
    private static final ObjectWriter PRETTY = Json.pretty();

    private JsonOutput() {
    }

    public static void print(JsonNode doc, PrintStream out) {
        try {
            out.println(PRETTY.writeValueAsString(doc));
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot print JSON: " + e.getMessage(), e);
        }
    }
}
