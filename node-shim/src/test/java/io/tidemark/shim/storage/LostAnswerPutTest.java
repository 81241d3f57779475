package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The answer to a PUT that landed is lost (the connection drops after S3 stored the object): the
 * SDK retries the PUT, S3 answers the retry 412 (the key exists), and the create is an identical
 * re-push, never a conflict. Against the real local S3, through a proxy that swallows the first
 * connection's answer.
 */
@Tag("localcloud")
class LostAnswerPutTest {
    @TempDir
    Path dir;

    @Test
    void aRetriedPutWhoseFirstAttemptLandedIsIdentical() throws Exception {
        URI s3 = URI.create(TestCloud.cloud().clientConfig().get("s3.endpoint"));
        try (AnswerDropper proxy = new AnswerDropper(s3)) {
            String stanza = "lost" + UUID.randomUUID().toString().substring(0, 8);
            Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "s3.endpoint", proxy.endpoint(),
                    "retries", "2"));
            ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
            String key = stanza + "/wal/0000000100000000/000000010000000000000001.zst";
            byte[] body = "a segment".getBytes(StandardCharsets.UTF_8);
            try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
                CreateOnly.Result r = CreateOnly.byMetadata(store, key, body, Map.of("sha256", CreateOnly.sha256(body)),
                        "sha256", CreateOnly.sha256(body));
                assertTrue(proxy.swallowed.get() == 1, "the first answer was swallowed: " + proxy.swallowed.get());
                assertTrue(proxy.connections.get() >= 2, "the SDK sent the PUT again: " + proxy.connections.get());
                assertInstanceOf(CreateOnly.Result.Identical.class, r, "the retry's 412 is our own first attempt");
                assertArrayEquals(body, store.get(key).orElseThrow().data());

                byte[] other = "another segment".getBytes(StandardCharsets.UTF_8);
                CreateOnly.Result d = CreateOnly.byMetadata(store, key, other, Map.of("sha256", CreateOnly.sha256(other)),
                        "sha256", CreateOnly.sha256(other));
                assertEquals(new CreateOnly.Result.Different(key, CreateOnly.sha256(body), CreateOnly.sha256(other)), d);
            }
        }
    }

    /** Forwards everything, except that the first connection's answers are dropped and the connection closed. */
    private static final class AnswerDropper implements AutoCloseable {
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger swallowed = new AtomicInteger();
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final URI upstream;

        AnswerDropper(URI upstream) throws IOException {
            this.upstream = upstream;
            Thread t = new Thread(this::accept, "answer-dropper");
            t.setDaemon(true);
            t.start();
        }

        String endpoint() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    Socket u = new Socket(upstream.getHost(), upstream.getPort());
                    boolean drop = connections.incrementAndGet() == 1;
                    pipe(c, u, false);
                    pipe(u, c, drop);
                } catch (IOException e) {
                    return;
                }
            }
        }

        /** With {@code drop}: nothing reaches {@code to}; once a final (non-100) status line came, both close. */
        private void pipe(Socket from, Socket to, boolean drop) {
            Thread t = new Thread(() -> {
                StringBuilder seen = new StringBuilder();
                byte[] buf = new byte[64 << 10];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        if (!drop) {
                            out.write(buf, 0, n);
                            out.flush();
                            continue;
                        }
                        seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                        String text = seen.toString().replace("HTTP/1.1 100 Continue\r\n\r\n", "");
                        if (text.startsWith("HTTP/1.1 ") && text.contains("\r\n\r\n")) {
                            swallowed.incrementAndGet();
                            to.close();
                            from.close();
                            return;
                        }
                    }
                } catch (IOException e) {
                    // closed
                } finally {
                    try {
                        to.close();
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "answer-dropper-pipe");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
