package io.tidemark.shim.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of the local S3 that a test can take down and bring back:
 * while down, every connection (open or new) is reset, as when S3 is unreachable. Shares nothing
 * with other tests, unlike stopping the shared local cloud.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String host;
    private final int port;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean down;
    private final AtomicInteger refused = new AtomicInteger();

    public TcpProxy(URI upstream) throws IOException {
        this.host = upstream.getHost();
        this.port = upstream.getPort();
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "tcp-proxy");
        t.setDaemon(true);
        t.start();
    }

    /** The endpoint to configure instead of the upstream one. */
    public String endpoint() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** Resets every open connection and every new one until {@link #up}. */
    public void down() {
        down = true;
        for (Socket s : open) {
            reset(s);
        }
        open.clear();
    }

    public void up() {
        down = false;
    }

    /** Connections reset on arrival because the proxy was down: a client's attempts during an outage. */
    public int refused() {
        return refused.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            if (down) {
                refused.incrementAndGet();
                reset(c);
                continue;
            }
            try {
                Socket u = new Socket(host, port);
                open.add(c);
                open.add(u);
                pipe(c, u);
                pipe(u, c);
            } catch (IOException e) {
                reset(c);
            }
        }
    }

    private void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 << 10];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed or was reset
            } finally {
                reset(from);
                reset(to);
                open.remove(from);
                open.remove(to);
            }
        }, "tcp-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
            s.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        down();
    }
}
