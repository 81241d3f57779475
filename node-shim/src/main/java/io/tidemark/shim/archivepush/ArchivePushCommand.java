package io.tidemark.shim.archivepush;

import io.tidemark.shim.Command;
import io.tidemark.shim.archivepush.async.AsyncArchivePush;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.Trace;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;

/**
 * {@code tidemark archive-push %p}: PostgreSQL's {@code archive_command}. Checks the file
 * ({@link WalFileCheck}), compresses it, and creates its object with {@code If-None-Match: *};
 * exits 0 only once S3 has confirmed the object, or when the same content (by SHA-256 of the
 * raw bytes) is already there. Anything else exits 1 and PostgreSQL keeps the file and retries.
 * An S3 PUT is atomic: a failed push leaves no object, so nothing half-archived can look done.
 * The work itself is {@link WalPusher}'s; with {@code archive-push.async=true} the answer comes
 * from the asynchronous worker's spool instead ({@link AsyncArchivePush}).
 */
@CommandLine.Command(name = "archive-push", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"archive_command: check, compress and upload one WAL file (exit 0 only once it is in S3).",
                "With archive-push.async=true the answer comes from the asynchronous worker's spool."})
public final class ArchivePushCommand implements Command, io.tidemark.shim.cli.PlainLine.OneArgument {
    /** User metadata on every WAL object: hex SHA-256 and size of the raw (uncompressed) bytes. */
    public static final String META_SHA256 = "sha256";
    public static final String META_RAW_SIZE = "raw-size";
    public static final String META_COMPRESSION = "compression";

    private final Map<String, String> env;
    private final AsyncArchivePush.Starter starter;

    @CommandLine.Mixin
    private CommonOptions common = new CommonOptions();

    @CommandLine.Parameters(index = "0", paramLabel = "WAL_PATH", description = "the WAL file to archive (%%p)")
    private String given;

    public ArchivePushCommand() {
        this(System.getenv());
    }

    public ArchivePushCommand(Map<String, String> env) {
        this(env, AsyncArchivePush.DETACHED);
    }

    /** @param starter how the async path starts a worker (tests run one in-process) */
    public ArchivePushCommand(Map<String, String> env, AsyncArchivePush.Starter starter) {
        this.env = env;
        this.starter = starter;
    }

    @Override
    public boolean bindOption(String name, String value) {
        return common.bindOption(name, value);
    }

    @Override
    public void bindTheArgument(String value) {
        given = value;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        Trace.mark("main");
        ShimConfig config = ShimConfig.load(common, env);
        PgOptions pg = PgOptions.from(common, env);
        Path file = resolve(given, pg.pgdata());
        if (config.asyncPush().enabled()) {
            return new AsyncArchivePush(config, env, starter).run(file, err);
        }
        return pushNow(config, env, file, err);
    }

    /**
     * The synchronous push, in this process: exit 0 once S3 confirmed (a notice when the same
     * content was archived already). Also the asynchronous mode's fallback when no worker can run.
     */
    public static int pushNow(ShimConfig config, Map<String, String> env, Path file, PrintStream err) {
        try (WalPusher pusher = new WalPusher(config, env)) {
            WalPusher.Pushed p = pusher.push(file);
            if (p.alreadyThere()) {
                err.println("tidemark archive-push: " + p.wal().fileName() + " is already archived with the same content ("
                        + p.key() + ")");
            }
            return ExitCodes.OK;
        }
    }

    /** {@code %p} is relative to the data directory (PostgreSQL's working directory). */
    static Path resolve(String given, Path pgdata) {
        Path p = Path.of(given);
        if (!p.isAbsolute() && pgdata != null) {
            p = pgdata.resolve(p);
        }
        return p.toAbsolutePath();
    }
}
