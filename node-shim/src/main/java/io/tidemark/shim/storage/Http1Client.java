package io.tidemark.shim.storage;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * HTTP/1.1 requests over a plain or TLS socket, for {@link HttpObjectStore}. Why not
 * {@code HttpURLConnection}: its first use in a JVM scans every jar on the class path for URL
 * handler providers and sets up logging, authentication and cookie machinery, about 13 ms of
 * a WAL segment's push (docs/startup.md). This client does what S3 needs and no more: one
 * request at a time per connection, bodies of known length, responses with a length, chunked
 * or up to the connection's end, and idle connections kept for the next request to the same
 * endpoint. TLS verifies the certificate chain and the host name. No proxies.
 */
final class Http1Client implements AutoCloseable {
    private static final int MAX_LINE = 16 * 1024;
    private static final int MAX_HEADERS = 200;
    private static final int MAX_IDLE = 8;

    /** A response: status, headers (names in lower case; the first value of repeated ones), body. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        /** The {@code Content-Length} header, or -1. */
        long contentLength() {
            return Http1Client.contentLength(headers);
        }
    }

    private static long contentLength(Map<String, String> headers) {
        String v = headers.get("content-length");
        try {
            return v == null ? -1 : Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private final SSLSocketFactory tls;
    private final int connectTimeoutMs;
    private final int readTimeoutMs;
    private final long maxBody;
    private final Deque<Connection> idle = new ArrayDeque<>();

    /**
     * @param tls     for https; null: the JVM's default trust store
     * @param maxBody the largest response body accepted
     */
    Http1Client(SSLSocketFactory tls, int connectTimeoutMs, int readTimeoutMs, long maxBody) {
        this.tls = tls;
        this.connectTimeoutMs = connectTimeoutMs;
        this.readTimeoutMs = readTimeoutMs;
        this.maxBody = maxBody;
    }

    /**
     * Sends one request and reads the whole response. A kept-alive connection that the server
     * closed meanwhile is replaced once, transparently (nothing of the response was read).
     *
     * @param headers sent as given (with {@code Host} and {@code Content-Length} added)
     * @param body    null for none (GET, HEAD)
     * @throws IllegalArgumentException a header with a line break or a non-Latin-1 character
     *                                  (before any connection is opened)
     */
    Response send(String method, URI uri, Map<String, String> headers, byte[] body) throws IOException {
        byte[] head = requestHead(method, uri, headers, body);
        String key = endpointKey(uri);
        Connection reused = takeIdle(key);
        if (reused != null) {
            try {
                return exchange(reused, method, head, body);
            } catch (StaleConnection stale) {
                reused.closeQuietly();
            }
        }
        // a new connection's failures are plain IOExceptions: only a reused one can be stale
        return exchange(open(uri, key), method, head, body);
    }

    private Response exchange(Connection c, String method, byte[] head, byte[] body) throws IOException {
        boolean done = false;
        try {
            writeRequest(c, head, body);
            Response r = readResponse(c, method);
            done = true;
            return r;
        } finally {
            if (!done) {
                c.closeQuietly();
            }
        }
    }

    /** Request line and headers, ending with the empty line, in ISO-8859-1. */
    private static byte[] requestHead(String method, URI uri, Map<String, String> headers, byte[] body) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        StringBuilder head = new StringBuilder(512).append(method).append(' ').append(path);
        if (uri.getRawQuery() != null) {
            head.append('?').append(uri.getRawQuery());
        }
        head.append(" HTTP/1.1\r\nHost: ").append(SigV4.hostHeader(uri)).append("\r\n");
        for (Map.Entry<String, String> h : headers.entrySet()) {
            requireHeaderSafe(h.getKey());
            requireHeaderSafe(h.getValue());
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("User-Agent: tidemark\r\n\r\n");
        return head.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void writeRequest(Connection c, byte[] head, byte[] body) throws IOException {
        try {
            c.out.write(head);
            if (body != null) {
                c.out.write(body);
            }
            c.out.flush();
        } catch (IOException e) {
            if (c.reused) {
                throw new StaleConnection(e);
            }
            throw e;
        }
    }

    private static void requireHeaderSafe(String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\r' || ch == '\n' || ch > 0xff) {
                throw new IllegalArgumentException("HTTP header text with a line break or non-Latin-1 character: " + s);
            }
        }
    }

    private Response readResponse(Connection c, String method) throws IOException {
        String statusLine;
        int status;
        Map<String, String> headers;
        awaitAnswer(c);
        do {
            statusLine = readLine(c.in);
            if (statusLine == null) {
                throw new IOException("the server closed the connection without answering");
            }
            status = parseStatus(statusLine);
            headers = readHeaders(c.in);
        } while (status >= 100 && status < 200); // interim answers (100 Continue) come before the real one
        byte[] body;
        boolean reusable = !"close".equalsIgnoreCase(headers.getOrDefault("connection", ""))
                && statusLine.startsWith("HTTP/1.1");
        String te = headers.get("transfer-encoding");
        long length = contentLength(headers);
        if (method.equals("HEAD") || status == 204 || status == 304) {
            body = new byte[0];
        } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = readChunked(c.in);
        } else if (length >= 0) {
            body = readExactly(c.in, length);
        } else {
            body = readToEnd(c.in);
            reusable = false;
        }
        if (reusable) {
            c.reused = true;
            putIdle(c);
        } else {
            c.closeQuietly();
        }
        return new Response(status, headers, body);
    }

    /**
     * Waits for the first byte of the answer. On a kept-alive connection, an end of stream or a
     * reset here means the server had closed it while idle: the caller sends again on a new one.
     */
    private static void awaitAnswer(Connection c) throws IOException {
        int first;
        try {
            c.in.mark(1);
            first = c.in.read();
            c.in.reset();
        } catch (IOException e) {
            if (c.reused) {
                throw new StaleConnection(e);
            }
            throw e;
        }
        if (first < 0) {
            if (c.reused) {
                throw new StaleConnection(null);
            }
            throw new IOException("the server closed the connection without answering");
        }
    }

    private static int parseStatus(String line) throws IOException {
        // HTTP/1.x SP 3DIGIT [SP reason]
        if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ') {
            throw new IOException("not an HTTP/1.x status line: " + abbreviate(line));
        }
        try {
            return Integer.parseInt(line.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new IOException("not an HTTP/1.x status line: " + abbreviate(line));
        }
    }

    private static Map<String, String> readHeaders(InputStream in) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        for (int n = 0; ; n++) {
            String line = readLine(in);
            if (line == null) {
                throw new IOException("the connection ended inside the response headers");
            }
            if (line.isEmpty()) {
                return headers;
            }
            if (n >= MAX_HEADERS) {
                throw new IOException("more than " + MAX_HEADERS + " response headers");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed response header: " + abbreviate(line));
            }
            headers.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
    }

    private byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(in);
            if (sizeLine == null) {
                throw new IOException("the connection ended inside a chunked body");
            }
            int semi = sizeLine.indexOf(';');
            long size;
            try {
                size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("malformed chunk size: " + abbreviate(sizeLine));
            }
            if (size < 0 || out.size() + size > maxBody) {
                throw new IOException("response body larger than " + maxBody + " bytes");
            }
            if (size == 0) {
                readHeaders(in); // trailers, up to the empty line
                return out.toByteArray();
            }
            out.write(readExactly(in, size));
            if (!"".equals(readLine(in))) {
                throw new IOException("a chunk is not followed by CRLF");
            }
        }
    }

    private byte[] readExactly(InputStream in, long length) throws IOException {
        if (length > maxBody) {
            throw new IOException("response body of " + length + " bytes, more than " + maxBody);
        }
        byte[] data = new byte[(int) length];
        int off = 0;
        while (off < data.length) {
            int n = in.read(data, off, data.length - off);
            if (n < 0) {
                throw new IOException("the connection ended after " + off + " of " + length + " body bytes");
            }
            off += n;
        }
        return data;
    }

    private byte[] readToEnd(InputStream in) throws IOException {
        byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBody + 1));
        if (data.length > maxBody) {
            throw new IOException("response body larger than " + maxBody + " bytes");
        }
        return data;
    }

    /** A line without its CRLF (or LF); null at the end of the stream before any byte. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (sb.isEmpty()) {
                    return null;
                }
                throw new IOException("the connection ended inside a line: " + abbreviate(sb.toString()));
            }
            if (b == '\n') {
                int len = sb.length();
                if (len > 0 && sb.charAt(len - 1) == '\r') {
                    sb.setLength(len - 1);
                }
                return sb.toString();
            }
            if (sb.length() >= MAX_LINE) {
                throw new IOException("a response line longer than " + MAX_LINE + " bytes");
            }
            sb.append((char) b);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }

    private Connection open(URI uri, String key) throws IOException {
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        boolean https = scheme.equals("https");
        if (!https && !scheme.equals("http")) {
            throw new IOException("unsupported scheme " + scheme + " (http or https)");
        }
        String host = uri.getHost();
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        Socket plain = new Socket();
        try {
            plain.setTcpNoDelay(true);
            plain.connect(new InetSocketAddress(host, port), connectTimeoutMs);
            plain.setSoTimeout(readTimeoutMs);
            Socket s = plain;
            if (https) {
                SSLSocketFactory f = tls != null ? tls : (SSLSocketFactory) SSLSocketFactory.getDefault();
                SSLSocket ssl = (SSLSocket) f.createSocket(plain, host, port, true);
                SSLParameters p = ssl.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name this host
                ssl.setSSLParameters(p);
                ssl.startHandshake();
                s = ssl;
            }
            return new Connection(key, s);
        } catch (IOException | RuntimeException e) {
            try {
                plain.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw e;
        }
    }

    private static String endpointKey(URI uri) {
        return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority();
    }

    private synchronized Connection takeIdle(String key) {
        for (var it = idle.iterator(); it.hasNext(); ) {
            Connection c = it.next();
            if (c.key.equals(key)) {
                it.remove();
                return c;
            }
        }
        return null;
    }

    private synchronized void putIdle(Connection c) {
        if (idle.size() >= MAX_IDLE) {
            idle.removeLast().closeQuietly();
        }
        idle.addFirst(c);
    }

    @Override
    public synchronized void close() {
        while (!idle.isEmpty()) {
            idle.removeFirst().closeQuietly();
        }
    }

    /** A kept-alive connection failed before any byte of the answer: the request may go again on a new one. */
    private static final class StaleConnection extends IOException {
        StaleConnection(IOException cause) {
            super("kept-alive connection closed by the server", cause);
        }
    }

    private static final class Connection {
        final String key;
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        boolean reused;

        Connection(String key, Socket socket) throws IOException {
            this.key = key;
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            this.out = socket.getOutputStream();
        }

        void closeQuietly() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing left to do with it
            }
        }
    }
}
