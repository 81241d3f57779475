package io.tidemark.shim.aottrain;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tidemark.shim.Command;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * {@code tidemark aot-train}: the training run for the JVM's AOT cache (docs/startup.md). Runs
 * archive-push (zst, lz4, none, cold and cached stanza document, already-archived) and
 * archive-get end to end against an in-process HTTP server that plays S3 and the catalog API,
 * on a synthetic 16 MB segment, so that the cache holds exactly the classes and profiles of the
 * archive fast path. Touches nothing outside a temp directory; needs no network.
 */
public final class AotTrainCommand implements Command {
    private static final long SYSID = 7_000_000_000_000_000_001L;
    private static final int SEGMENT = 16 << 20;

    private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> metas = new ConcurrentHashMap<>();

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Path dir = null;
        HttpServer server = null;
        try {
            dir = Files.createTempDirectory("tidemark-aot-train");
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.createContext("/", this::handle);
            server.start();
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            Path wal = dir.resolve("pg_wal");
            Files.createDirectories(wal);
            for (String[] variant : new String[][] {{"zst", "1"}, {"lz4", "2"}, {"none", "3"}}) {
                Path conf = dir.resolve(variant[0] + ".conf");
                Files.writeString(conf, "s3.endpoint=" + base + "\ns3.region=us-east-1\ns3.bucket=train\ns3.pathStyle=true\n"
                        + "s3.accessKeyId=AKTRAIN\ns3.secretAccessKey=train\napi.url=" + base + "\nstanza=train\n"
                        + "compress-type=" + variant[0] + "\nspool.dir=" + dir.resolve("spool") + "\nretries=0\n");
                for (int seg = 0; seg < 2; seg++) {
                    long segNo = Long.parseLong(variant[1]) * 4 + seg;
                    String name = String.format("00000001%08X%08X", segNo >>> 8, segNo & 0xFF);
                    Path f = wal.resolve(name);
                    Files.write(f, segment(segNo));
                    List<String> push = List.of(f.toString(), "--config", conf.toString());
                    expect(new ArchivePushCommand(Map.of()).run(push, devNull(), devNull()), "archive-push " + name);
                    if (seg == 0) {
                        expect(new ArchivePushCommand(Map.of()).run(push, devNull(), devNull()), "repeated archive-push");
                    }
                    expect(new ArchiveGetCommand(Map.of(), (c, s, after) -> { }).run(List.of(name, dir.resolve("RECOVERYXLOG").toString(),
                            "--config", conf.toString()), devNull(), devNull()), "archive-get " + name);
                }
            }
            out.println("aot-train: archive-push and archive-get exercised");
            return ExitCodes.OK;
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "training run failed: " + e.getMessage(), e);
        } finally {
            if (server != null) {
                server.stop(0);
            }
            if (dir != null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // temp files
                }
            }
        }
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
        byte[] b = new byte[SEGMENT];
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) 0xD110).putShort(2, (short) 0x0002).putInt(4, 1).putLong(8, segNo * SEGMENT)
                .putInt(16, 0).putLong(24, SYSID).putInt(32, SEGMENT).putInt(36, 8192);
        for (int i = 8192; i < SEGMENT; i += 64) {
            b[i] = (byte) (i >>> 13);
            b[i + 7] = (byte) (i * 31);
        }
        return b;
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String method = x.getRequestMethod();
            byte[] body = x.getRequestBody().readAllBytes();
            if (path.startsWith("/stanzas/")) {
                byte[] doc = ("{\"stanza\":\"train\",\"systemIdentifier\":\"" + Long.toUnsignedString(SYSID)
                        + "\",\"pgVersion\":15,\"pgVersionNum\":150000,\"walSegmentSize\":" + SEGMENT
                        + ",\"createdAt\":\"2026-01-01T00:00:00Z\",\"timelines\":[],\"partials\":[],\"histories\":[]}")
                        .getBytes(StandardCharsets.UTF_8);
                send(x, 200, doc);
                return;
            }
            switch (method) {
                case "PUT" -> {
                    if (bodies.putIfAbsent(path, body) != null) {
                        send(x, 412, "<Error><Code>PreconditionFailed</Code></Error>".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    Map<String, String> m = new ConcurrentHashMap<>();
                    x.getRequestHeaders().forEach((k, v) -> {
                        if (k.toLowerCase().startsWith("x-amz-meta-")) {
                            m.put(k.toLowerCase(), v.get(0));
                        }
                    });
                    metas.put(path, m);
                    send(x, 200, new byte[0]);
                }
                case "HEAD", "GET" -> {
                    byte[] stored = bodies.get(path);
                    if (stored == null) {
                        send(x, 404, "<Error><Code>NoSuchKey</Code></Error>".getBytes(StandardCharsets.UTF_8));
                        return;
                    }
                    metas.get(path).forEach((k, v) -> x.getResponseHeaders().set(k, v));
                    if (method.equals("HEAD")) {
                        x.getResponseHeaders().set("Content-Length", String.valueOf(stored.length));
                        x.sendResponseHeaders(200, -1);
                    } else {
                        send(x, 200, stored);
                    }
                }
                default -> send(x, 405, new byte[0]);
            }
        }
    }

    private static void send(HttpExchange x, int status, byte[] body) throws IOException {
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
    }
}
