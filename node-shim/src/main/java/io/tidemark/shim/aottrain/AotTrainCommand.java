package io.tidemark.shim.aottrain;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import io.tidemark.shim.Main;

/**
 * {@code tidemark aot-train push|get}: a training run for one of the JVM's AOT caches
 * (docs/startup.md). With the AOT cache every class the training loaded is loaded and linked
 * at each start, so each per-segment command gets its own cache, trained on its own path only:
 * {@code push} runs archive-push (zstd, the stanza document cached as after stanza-create,
 * then the same file again); {@code get} runs archive-push and archive-get with each
 * compression. S3 and the catalog API are played by {@link TrainingCloud} in a separate JVM, and
 * this class avoids formatters, streams and regular expressions for the same reason. Synthetic
 * 16 MB segments; touches nothing outside a temp directory; needs no network.
 */
@CommandLine.Command(name = "aot-train", hidden = true, mixinStandardHelpOptions = true,
        versionProvider = io.tidemark.shim.cli.Version.class,
        description = "(build) a training run for the JVM's AOT cache of archive-push or archive-get")
public final class AotTrainCommand implements Command, io.tidemark.shim.cli.PlainLine.OneArgument {
    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "push|get", description = "which command's cache")
    private String which;

    @Override
    public boolean bindOption(String name, String value) {
        return false;
    }

    @Override
    public void bindTheArgument(String value) {
        which = value;
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        if (!("push".equals(which) || "get".equals(which))) {
            throw new UsageException("usage: tidemark aot-train push|get");
        }
        boolean get = which.equals("get");
        Path dir = null;
        Process server = null;
        try {
            dir = trainingDirectory();
            server = startCloud();
            String base = "http://127.0.0.1:" + port(server);
            Path wal = dir.resolve("pg_wal");
            Files.createDirectories(wal);
            Path spool = dir.resolve("spool");
            if (!get) {
                // as after stanza-create: archive-push reads the cached document, no API call
                // written directly, not by StanzaCache.write: its temporary file would bring SecureRandom
                // into the cache, which archive-push never needs
                Path cached = new StanzaCache(spool).file(StanzaName.of("train"));
                Files.createDirectories(cached.getParent());
                Files.writeString(cached, new StanzaDoc("train", TrainingCloud.SYSID, 15, 150000,
                        WalSegmentSize.ofBytes(TrainingCloud.SEGMENT), "2026-01-01T00:00:00Z").toCacheText());
            }
            String[] compressions = get ? new String[] {"zst", "lz4", "none"} : new String[] {"zst"};
            for (int v = 0; v < compressions.length; v++) {
                Path conf = dir.resolve(compressions[v] + ".conf");
                Files.writeString(conf, "s3.endpoint=" + base + "\ns3.region=us-east-1\ns3.bucket=train\ns3.pathStyle=true\n"
                        + "s3.accessKeyId=AKTRAIN\ns3.secretAccessKey=train\napi.url=" + base + "\nstanza=train\n"
                        + "compress-type=" + compressions[v] + "\nspool.dir=" + spool + "\nretries=0\narchive-push.async=false\n");
                // static keys: the shim refuses a configuration others can read
                Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                for (int seg = 0; seg < 2; seg++) {
                    long segNo = (v + 1) * 4L + seg;
                    String name = "00000001" + hex8(segNo >>> 8) + hex8(segNo & 0xFF);
                    Path f = wal.resolve(name);
                    Files.write(f, segment(segNo));
                    // through Main, as bin/tidemark runs them: the command line's parsing is trained too
                    List<String> push = List.of("archive-push", f.toString(), "--config", conf.toString());
                    expect(Main.run(push, devNull(), devNull(), n -> new ArchivePushCommand(Map.of())),
                            "archive-push " + name);
                    if (seg == 0) {
                        expect(Main.run(push, devNull(), devNull(), n -> new ArchivePushCommand(Map.of())),
                                "repeated archive-push");
                    }
                    if (get) {
                        expect(Main.run(List.of("archive-get", name, dir.resolve("RECOVERYXLOG").toString(), "--config",
                                conf.toString()), devNull(), devNull(),
                                n -> new ArchiveGetCommand(Map.of(), (c, s, after, plan) -> { })), "archive-get " + name);
                    }
                }
            }
            out.println("aot-train: " + (get ? "archive-push and archive-get" : "archive-push") + " exercised");
            return ExitCodes.OK;
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "training run failed: " + e.getMessage(), e);
        } finally {
            if (server != null) {
                server.destroy();
            }
            if (dir != null) {
                delete(dir.toFile());
            }
        }
    }

    /** A fresh directory under java.io.tmpdir; not Files.createTempDirectory, which starts SecureRandom. */
    private static Path trainingDirectory() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        for (int attempt = 0; ; attempt++) {
            Path dir = tmp.resolve("tidemark-aot-train-" + Long.toHexString(System.nanoTime()));
            try {
                return Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static String hex8(long v) {
        String h = Long.toHexString(v).toUpperCase(java.util.Locale.ROOT);
        return "0".repeat(8 - h.length()) + h;
    }

    private static void delete(java.io.File f) {
        java.io.File[] children = f.listFiles();
        if (children != null) {
            for (java.io.File c : children) {
                delete(c);
            }
        }
        f.delete();
    }

    /** The training cloud in its own JVM (same Java, same jar), without this JVM's AOT options. */
    private static Process startCloud() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                TrainingCloud.class.getName());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }

    private static int port(Process cloud) throws IOException {
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(cloud.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (line == null || !line.startsWith("port ")) {
            throw new IOException("the training cloud did not start (said: " + line + ")");
        }
        return Integer.parseInt(line.substring(5).trim());
    }

    private static void expect(int code, String what) {
        if (code != 0) {
            throw new CommandFailure(ExitCodes.FAILED, "training run: " + what + " exited " + code);
        }
    }

    private static PrintStream devNull() {
        return new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    }

    /** A 16 MB PostgreSQL 15 segment: a valid long page header, then compressible filler. */
    static byte[] segment(long segNo) {
        byte[] b = new byte[TrainingCloud.SEGMENT];
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) 0xD110).putShort(2, (short) 0x0002).putInt(4, 1).putLong(8, segNo * TrainingCloud.SEGMENT)
                .putInt(16, 0).putLong(24, TrainingCloud.SYSID).putInt(32, TrainingCloud.SEGMENT).putInt(36, 8192);
        for (int i = 8192; i < TrainingCloud.SEGMENT; i += 64) {
            b[i] = (byte) (i >>> 13);
            b[i + 7] = (byte) (i * 31);
        }
        return b;
    }
}
