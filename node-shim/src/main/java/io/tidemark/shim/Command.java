package io.tidemark.shim;

import java.io.PrintStream;
import java.util.List;

/** One {@code tidemark} command; each lives in its own package. */
public interface Command {
    int run(List<String> args, PrintStream out, PrintStream err);
}
