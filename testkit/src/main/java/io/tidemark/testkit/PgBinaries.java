package io.tidemark.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the PostgreSQL server binaries are and which version they are. Lookup order:
 * <ol>
 *   <li>env {@code TIDEMARK_PG_BINDIR} (or system property {@code tidemark.pg.bindir});</li>
 *   <li>Debian/Ubuntu {@code /usr/lib/postgresql/<major>/bin}: 15 when present (the version
 *       the project targets first), else the highest;</li>
 *   <li>{@code pg_config --bindir} from the PATH.</li>
 * </ol>
 */
public final class PgBinaries {

    static final String BINDIR_ENV = "TIDEMARK_PG_BINDIR";
    static final String BINDIR_PROPERTY = "tidemark.pg.bindir";
    private static final int PREFERRED_MAJOR = 15;
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");
    private static final Path DEBIAN_ROOT = Path.of("/usr/lib/postgresql");

    private static volatile PgBinaries located;

    private final Path binDir;
    private final String version;
    private final int majorVersion;

    private PgBinaries(Path binDir, String version, int majorVersion) {
        this.binDir = binDir;
        this.version = version;
        this.majorVersion = majorVersion;
    }

    /** The binaries for this machine, looked up once per JVM. */
    public static PgBinaries locate() {
        PgBinaries b = located;
        if (b == null) {
            synchronized (PgBinaries.class) {
                if (located == null) {
                    located = at(findBinDir());
                }
                b = located;
            }
        }
        return b;
    }

    /** The binaries in {@code binDir}; reads the version from {@code postgres --version}. */
    public static PgBinaries at(Path binDir) {
        Path postgres = binDir.resolve("postgres");
        if (!Files.isExecutable(postgres)) {
            throw new IllegalStateException("no executable postgres in " + binDir + howToInstall());
        }
        // --version is answered before the root check, so this works as any user.
        CommandResult r = new CommandRunner(RunAs.currentUser(), Path.of("/"), Map.of())
                .run(List.of(postgres.toString(), "--version"), Duration.ofSeconds(30)).orThrow();
        Matcher m = VERSION.matcher(r.stdout());
        if (!m.find()) {
            throw new IllegalStateException("cannot read a version from '" + r.stdoutTrimmed() + "' (" + postgres + ")");
        }
        String version = m.group(2) == null ? m.group(1) : m.group(1) + "." + m.group(2);
        return new PgBinaries(binDir, version, Integer.parseInt(m.group(1)));
    }

    private static Path findBinDir() {
        String explicit = Optional.ofNullable(System.getenv(BINDIR_ENV))
                .orElse(System.getProperty(BINDIR_PROPERTY));
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (!Files.isExecutable(p.resolve("postgres"))) {
                throw new IllegalStateException(BINDIR_ENV + "=" + explicit + " has no executable postgres");
            }
            return p;
        }
        Optional<Path> debian = debianBinDir();
        if (debian.isPresent()) {
            return debian.get();
        }
        Optional<Path> fromPgConfig = pgConfigBinDir();
        if (fromPgConfig.isPresent()) {
            return fromPgConfig.get();
        }
        throw new IllegalStateException("PostgreSQL server binaries not found" + howToInstall());
    }

    private static Optional<Path> debianBinDir() {
        if (!Files.isDirectory(DEBIAN_ROOT)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(DEBIAN_ROOT)) {
            List<Path> candidates = versions
                    .filter(p -> p.getFileName().toString().matches("\\d+"))
                    .filter(p -> Files.isExecutable(p.resolve("bin/postgres")))
                    .sorted(Comparator.comparingInt((Path p) -> Integer.parseInt(p.getFileName().toString())).reversed())
                    .toList();
            return candidates.stream()
                    .filter(p -> p.getFileName().toString().equals(String.valueOf(PREFERRED_MAJOR)))
                    .findFirst()
                    .or(() -> candidates.stream().findFirst())
                    .map(p -> p.resolve("bin"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + DEBIAN_ROOT, e);
        }
    }

    private static Optional<Path> pgConfigBinDir() {
        try {
            CommandResult r = new CommandRunner(RunAs.currentUser(), Path.of("/"), Map.of())
                    .run(List.of("pg_config", "--bindir"), Duration.ofSeconds(30));
            Path dir = Path.of(r.stdoutTrimmed());
            return r.succeeded() && Files.isExecutable(dir.resolve("postgres")) ? Optional.of(dir) : Optional.empty();
        } catch (RuntimeException noPgConfig) {
            return Optional.empty();
        }
    }

    private static String howToInstall() {
        return ". Install the server (Debian/Ubuntu: apt-get install postgresql-15) or set "
                + BINDIR_ENV + " to the dir that holds initdb, pg_ctl and postgres.";
    }

    public Path binDir() {
        return binDir;
    }

    /** Full version, e.g. {@code 15.18}. */
    public String version() {
        return version;
    }

    public int majorVersion() {
        return majorVersion;
    }

    /** The path of a tool in the bin dir ({@code psql}, {@code pg_waldump}, ...); fails if it is missing. */
    public Path tool(String name) {
        Path p = binDir.resolve(name);
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("no executable " + name + " in " + binDir);
        }
        return p;
    }

    @Override
    public String toString() {
        return "PostgreSQL " + version + " at " + binDir;
    }
}
