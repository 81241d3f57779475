package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The client against a scripted server: each request gets the next canned answer, byte for byte. */
@Tag("unit")
class Http1ClientTest {
    private ScriptedServer server;
    private Http1Client client;

    @BeforeEach
    void start() throws IOException {
        server = new ScriptedServer();
        client = new Http1Client(null, 2_000, 5_000, 1 << 20);
    }

    @AfterEach
    void stop() throws IOException {
        client.close();
        server.close();
    }

    @Test
    void sendsTheRequestAndReusesTheConnection() throws Exception {
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nx-amz-meta-sha256: abc\r\n\r\nfirst");
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-amz-date", "20260101T000000Z");
        Http1Client.Response r = client.send("PUT", server.uri("/bucket/key%2Fx"), h, "body!".getBytes(StandardCharsets.UTF_8));
        assertEquals(200, r.status());
        assertEquals("first", new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("abc", r.headers().get("x-amz-meta-sha256"));
        assertEquals(5, r.contentLength());
        Http1Client.Response second = client.send("GET", server.uri("/bucket/other"), Map.of(), null);
        assertEquals("second", new String(second.body(), StandardCharsets.UTF_8));
        assertEquals(1, server.connections.get(), "the second request went over the kept-alive connection");

        String put = server.requests.get(0);
        assertTrue(put.startsWith("PUT /bucket/key%2Fx HTTP/1.1\r\n"), put);
        assertTrue(put.contains("\r\nHost: 127.0.0.1:" + server.port() + "\r\n"), put);
        assertTrue(put.contains("\r\nx-amz-date: 20260101T000000Z\r\n"), put);
        assertTrue(put.contains("\r\nContent-Length: 5\r\n"), put);
        assertTrue(put.endsWith("\r\n\r\nbody!"), put);
        assertTrue(!server.requests.get(1).contains("Content-Length"), "a GET has no body: " + server.requests.get(1));
    }

    @Test
    void readsChunkedBodiesWithExtensionsAndTrailers() throws Exception {
        server.answer("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: t\r\n\r\n");
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        Http1Client.Response r = client.send("GET", server.uri("/missing"), Map.of(), null);
        assertEquals(404, r.status());
        assertEquals("hello, world", new String(r.body(), StandardCharsets.UTF_8));
        assertEquals("ok", new String(client.send("GET", server.uri("/x"), Map.of(), null).body(), StandardCharsets.UTF_8));
        assertEquals(1, server.connections.get(), "the chunked body was read to its end, the connection kept");
    }

    @Test
    void skipsInterimAnswers() throws Exception {
        server.answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        Http1Client.Response r = client.send("PUT", server.uri("/k"), Map.of(), new byte[3]);
        assertEquals(200, r.status());
        assertEquals("ok", new String(r.body(), StandardCharsets.UTF_8));
    }

    @Test
    void headAnswersHaveNoBodyWhateverTheirLength() throws Exception {
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n");
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
        Http1Client.Response r = client.send("HEAD", server.uri("/k"), Map.of(), null);
        assertEquals(16_777_216, r.contentLength());
        assertEquals(0, r.body().length);
        assertEquals("z", new String(client.send("GET", server.uri("/k"), Map.of(), null).body(), StandardCharsets.UTF_8));
        assertEquals(1, server.connections.get());
    }

    @Test
    void connectionCloseIsHonoured() throws Exception {
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na");
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
        client.send("GET", server.uri("/1"), Map.of(), null);
        assertEquals("b", new String(client.send("GET", server.uri("/2"), Map.of(), null).body(), StandardCharsets.UTF_8));
        assertEquals(2, server.connections.get());
    }

    /** S3 closes idle connections: the request goes again on a new one, once, and succeeds. */
    @Test
    void aKeptConnectionTheServerClosedIsReplaced() throws Exception {
        server.closeAfterEachAnswer = true; // without saying Connection: close
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
        client.send("GET", server.uri("/1"), Map.of(), null);
        Thread.sleep(100); // let the close arrive
        Http1Client.Response r = client.send("PUT", server.uri("/2"), Map.of(), "x".getBytes(StandardCharsets.UTF_8));
        assertEquals("b", new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(2, server.connections.get());
        assertEquals(2, server.requests.size(), "the failed reuse sent nothing the server took as a request");
    }

    @Test
    void aBodyCutShortIsAnError() {
        server.closeAfterEachAnswer = true;
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
        IOException e = assertThrows(IOException.class, () -> client.send("GET", server.uri("/k"), Map.of(), null));
        assertTrue(e.getMessage().contains("ended after 5 of 10 body bytes"), e.getMessage());
    }

    @Test
    void somethingOtherThanHttpIsAnError() {
        server.answer("SSH-2.0-OpenSSH_9.2\r\n\r\n");
        IOException e = assertThrows(IOException.class, () -> client.send("GET", server.uri("/k"), Map.of(), null));
        assertTrue(e.getMessage().contains("not an HTTP/1.x status line: SSH-2.0"), e.getMessage());
    }

    @Test
    void aServerThatSaysNothingIsAnError() {
        server.closeAfterEachAnswer = true;
        server.answer("");
        IOException e = assertThrows(IOException.class, () -> client.send("GET", server.uri("/k"), Map.of(), null));
        assertTrue(e.getMessage().contains("closed the connection without answering"), e.getMessage());
    }

    @Test
    void bodiesOverTheLimitAreRefused() {
        server.answer("HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n");
        IOException e = assertThrows(IOException.class, () -> client.send("GET", server.uri("/k"), Map.of(), null));
        assertTrue(e.getMessage().contains("more than 1048576"), e.getMessage());
    }

    @Test
    void headerValuesWithLineBreaksAreRefusedBeforeSending() {
        assertThrows(IllegalArgumentException.class,
                () -> client.send("GET", server.uri("/k"), Map.of("x-amz-meta-a", "v\r\nInjected: yes"), null));
        assertEquals(0, server.requests.size());
        assertEquals(0, server.connections.get(), "refused before a connection was opened");
    }

    @Test
    void nothingListeningIsAnIoError() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThrows(IOException.class, () -> client.send("GET", URI.create("http://127.0.0.1:" + port + "/k"), Map.of(), null));
    }

    /** Answers requests with canned bytes, in order; records each request as text. */
    private static final class ScriptedServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        final List<String> requests = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connections = new AtomicInteger();
        volatile boolean closeAfterEachAnswer;
        private final Thread acceptor;

        ScriptedServer() throws IOException {
            acceptor = new Thread(this::acceptLoop, "scripted-server");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port() + path);
        }

        void answer(String raw) {
            answers.add(raw);
        }

        private void acceptLoop() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s), "scripted-connection");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                while (true) {
                    String head = readHead(in);
                    if (head == null) {
                        return;
                    }
                    int length = 0;
                    for (String line : head.split("\r\n")) {
                        if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                            length = Integer.parseInt(line.substring(15).trim());
                        }
                    }
                    byte[] body = in.readNBytes(length);
                    requests.add(head + new String(body, StandardCharsets.ISO_8859_1));
                    String answer = answers.poll(5, TimeUnit.SECONDS);
                    if (answer == null) {
                        return;
                    }
                    out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                    if (closeAfterEachAnswer) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        }

        /** Up to and including the empty line; null at end of stream. */
        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) >= 0) {
                b.write(c);
                byte[] a = b.toByteArray();
                int n = a.length;
                if (n >= 4 && a[n - 4] == '\r' && a[n - 3] == '\n' && a[n - 2] == '\r' && a[n - 1] == '\n') {
                    return b.toString(StandardCharsets.ISO_8859_1);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
