package io.tidemark.shim.quickstart;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/** Where PostgreSQL's server programs are: Debian keeps them off PATH, under /usr/lib/postgresql/N/bin. */
public final class PgBinDir {
    private PgBinDir() {
    }

    /**
     * The server programs of PostgreSQL {@code major}: {@code TIDEMARK_PG_BINDIR}, Debian's
     * /usr/lib/postgresql/N/bin, then PATH; each candidate's {@code pg_ctl --version} must say
     * that major version (a cluster must be started by the binaries of its own version).
     */
    public static Optional<Path> find(int major) {
        java.util.List<Path> candidates = new java.util.ArrayList<>();
        String env = System.getenv("TIDEMARK_PG_BINDIR");
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        candidates.add(Path.of("/usr/lib/postgresql", Integer.toString(major), "bin"));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir));
            }
        }
        for (Path bin : candidates) {
            if (Files.isExecutable(bin.resolve("pg_ctl")) && Files.isExecutable(bin.resolve("postgres"))
                    && versionOf(bin) == major) {
                return Optional.of(bin);
            }
        }
        return Optional.empty();
    }

    /** The major version {@code pg_ctl --version} reports ("pg_ctl (PostgreSQL) 15.4 ..."), 0 when unknown. */
    static int versionOf(Path bin) {
        try {
            Process p = new ProcessBuilder(bin.resolve("pg_ctl").toString(), "--version").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\(PostgreSQL\\) (\\d+)").matcher(out);
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (java.io.IOException | NumberFormatException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    static Optional<Path> find() {
        String env = System.getenv("TIDEMARK_PG_BINDIR");
        if (env != null && Files.isExecutable(Path.of(env, "initdb"))) {
            return Optional.of(Path.of(env));
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> best = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("postgres")))
                        .max(Comparator.comparingInt(PgBinDir::major));
                if (best.isPresent()) {
                    return best;
                }
            } catch (java.io.IOException ignored) {
                // fall through to PATH
            }
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "initdb")) && Files.isExecutable(Path.of(dir, "pg_ctl"))) {
                return Optional.of(Path.of(dir));
            }
        }
        return Optional.empty();
    }

    private static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
