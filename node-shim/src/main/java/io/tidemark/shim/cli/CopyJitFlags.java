package io.tidemark.shim.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The copy commands' JVM flags (C2 only for the digest and cipher kernels), as the launcher's
 * {@code bin/lib/copy-jit.flags} defines them for backup, restore and the bench scripts: one flag
 * per line, {@code #} comments, {@code @LIB@} for that directory. Read here for the JVMs the shim
 * starts itself (the archive-get prefetcher), so that the flags have one definition.
 */
public final class CopyJitFlags {
    private CopyJitFlags() {
    }

    /** The flags of {@code lib} (the launcher's {@code bin/lib}); none when it or its directives file is missing. */
    public static List<String> of(Path lib) {
        Path flags = lib.resolve("copy-jit.flags");
        if (!Files.isReadable(flags) || !Files.isReadable(lib.resolve("copy-jit.json"))) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(flags, StandardCharsets.UTF_8)) {
                if (!line.isEmpty() && !line.startsWith("#")) {
                    out.add(line.replace("@LIB@", lib.toString()));
                }
            }
        } catch (IOException e) {
            return List.of(); // the JVM's defaults, as without the file: slower, never wrong
        }
        return List.copyOf(out);
    }
}
