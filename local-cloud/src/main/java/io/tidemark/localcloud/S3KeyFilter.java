package io.tidemark.localcloud;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.shaded.org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.gaul.shaded.org.eclipse.jetty.server.Handler;
import org.gaul.shaded.org.eclipse.jetty.server.Server;

/**
 * What S3Proxy cannot say about a key, said before it sees the request: an access key that was
 * never issued ({@code 403 InvalidAccessKeyId}), a session key past its expiration ({@code 400
 * ExpiredToken}, also for a presigned URL: it dies with the session that signed it, as in AWS), a
 * session key without its own token ({@code 403 InvalidToken}). The signature itself is checked by
 * S3Proxy with the key's secret (the {@link org.gaul.s3proxy.BlobStoreLocator}), and each
 * operation by {@link EnforcingBlobStore}.
 *
 * <p>Installed without enforcement too, for what every request needs: a body S3Proxy started
 * reading is read to its end before the answer goes out (see {@link BodySeen#drain}), and a 5xx
 * answer or a failure is logged.
 *
 * <p>S3Proxy 4.0.0 has no hook for this: its Jetty server (shaded) is a private field, and we add
 * this servlet filter to its servlet context before it starts. Pinned to that version's layout;
 * {@link #install} fails loudly if it changes.
 */
final class S3KeyFilter implements Filter {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(S3KeyFilter.class);

    private static final Pattern V4_HEADER = Pattern.compile("AWS4-HMAC-SHA256\\s+Credential=([^/,\\s]+)/");
    private static final Pattern V2_HEADER = Pattern.compile("AWS\\s+([^:\\s]+):");
    private static final ThreadLocal<String[]> REQUEST = new ThreadLocal<>();
    /** Condition keys of a write, from the request as the client sent it (see {@link #writeContext}). */
    private static final ThreadLocal<java.util.Map<String, String>> WRITE_CONTEXT = new ThreadLocal<>();
    private static final String TOKEN_HEADER = "x-amz-security-token";

    private final Enforcement enforcement;

    private S3KeyFilter(Enforcement enforcement) {
        this.enforcement = enforcement;
    }

    static void install(S3Proxy proxy, Enforcement enforcement) {
        try {
            Field f = S3Proxy.class.getDeclaredField("server");
            f.setAccessible(true);
            Server server = (Server) f.get(proxy);
            Handler h = server.getHandler();
            while (!(h instanceof ServletContextHandler) && h instanceof Handler.Wrapper w) {
                h = w.getHandler();
            }
            if (!(h instanceof ServletContextHandler context)) {
                throw new LocalCloudException("S3Proxy's server has no servlet context to guard (" + server.getHandler() + ")");
            }
            context.addFilter(new S3KeyFilter(enforcement), "/*", EnumSet.of(DispatcherType.REQUEST));
            // S3Proxy stops gracefully for up to 30 s, and Jetty's graceful stop also waits out
            // every idle keep-alive connection until its client closes it (the JDK's clients keep
            // one 5 s): each local cloud's close took about 4 s more once tests kept connections
            // alive. A stopping local cloud has nothing in flight worth waiting for.
            server.setStopTimeout(0);
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (e instanceof LocalCloudException l) {
                throw l;
            }
            throw new LocalCloudException("cannot guard S3Proxy's keys (S3Proxy's layout changed?): " + e, e);
        }
    }

    /** The HTTP method of the S3 request this thread is serving, or null. */
    static String currentMethod() {
        String[] r = REQUEST.get();
        return r == null ? null : r[0];
    }

    /** The object key of the S3 request this thread is serving (path-style), or null. */
    static String currentKey() {
        String[] r = REQUEST.get();
        return r == null ? null : r[1];
    }

    /**
     * The condition keys AWS sets on a write (s3:PutObject) of the request this thread serves:
     * {@code s3:if-none-match} with the {@code If-None-Match} header's value when the request has
     * one (absent otherwise), and {@code s3:ObjectCreationOperation}, {@code "true"} for the calls
     * that make an object (PutObject, CopyObject, CompleteMultipartUpload: {@code POST ?uploadId=})
     * and {@code "false"} for CreateMultipartUpload ({@code POST ?uploads}) and UploadPart
     * ({@code PUT ?partNumber=&uploadId=}), which take no conditional header. S3Proxy hands the blob
     * store no request headers, so this filter, which sees the request first, reads them.
     */
    static java.util.Map<String, String> writeContext() {
        java.util.Map<String, String> c = WRITE_CONTEXT.get();
        // no request seen (never for S3Proxy's own threads today): judged as an unconditional create
        return c == null ? java.util.Map.of("s3:ObjectCreationOperation", "true") : c;
    }

    static java.util.Map<String, String> writeContext(String method, String ifNoneMatch, boolean uploads,
            boolean uploadId) {
        java.util.Map<String, String> c = new java.util.HashMap<>();
        if (ifNoneMatch != null) {
            c.put("s3:if-none-match", ifNoneMatch);
        }
        boolean creates = method.equals("PUT") ? !uploadId : method.equals("POST") && uploadId && !uploads;
        c.put("s3:ObjectCreationOperation", Boolean.toString(creates));
        return java.util.Map.copyOf(c);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse res = (HttpServletResponse) response;
        String accessKey = enforcement == null ? null : accessKey(req);
        if (accessKey != null) {
            String token = req.getHeader(TOKEN_HEADER);
            if (token == null) {
                token = query(req, "X-Amz-Security-Token");
            }
            SessionKeys.Check check = enforcement.keys().check(accessKey, token);
            if (!(check instanceof SessionKeys.Check.Valid)) {
                enforcement.refuse(Enforcement.who(check), "s3:" + req.getMethod(), resource(req),
                        Enforcement.reason(check));
                switch (check) {
                    case SessionKeys.Check.Expired e -> error(req, res, 400, "ExpiredToken", "The provided token has expired.");
                    case SessionKeys.Check.BadToken b -> error(req, res, 403, "InvalidToken",
                            "The provided token is malformed or otherwise invalid.");
                    default -> error(req, res, 403, "InvalidAccessKeyId",
                            "The AWS Access Key Id you provided does not exist in our records.");
                }
                return;
            }
        }
        REQUEST.set(new String[] {req.getMethod(), objectKey(req)});
        WRITE_CONTEXT.set(writeContext(req.getMethod(), req.getHeader("If-None-Match"), query(req, "uploads") != null,
                query(req, "uploadId") != null));
        BodySeen seen = new BodySeen(req);
        try {
            chain.doFilter(seen, response);
            seen.drain();
            if (res.getStatus() >= 500) {
                // a client retries a 5xx, and a retried create-only PUT whose first attempt did
                // store the object gets 412: say here what the first attempt got, and why
                LOG.warn("S3 {} {} answered {}", req.getMethod(), req.getRequestURI(), res.getStatus());
            }
        } catch (IOException | ServletException | RuntimeException e) {
            LOG.warn("S3 {} {} failed: {}", req.getMethod(), req.getRequestURI(), e.toString(), e);
            throw e;
        } finally {
            REQUEST.remove();
            WRITE_CONTEXT.remove();
        }
    }

    /**
     * The request without {@code x-amz-security-token} among its header names: S3Proxy 4.0.0 answers
     * 501 NotImplemented to any x-amz-* header it does not know, and it knows no session tokens.
     * The header's value stays readable by name, which is how S3Proxy's SigV4 check reads the
     * signed headers, so the signature still covers the token. (SigV2 lists headers by name and
     * would then miss it; SDK v2 clients sign with SigV4.)
     */
    private static final class BodySeen extends jakarta.servlet.http.HttpServletRequestWrapper {
        private final boolean hideToken;
        private jakarta.servlet.ServletInputStream body;

        BodySeen(HttpServletRequest request) {
            super(request);
            this.hideToken = request.getHeader(TOKEN_HEADER) != null;
        }

        @Override
        public java.util.Enumeration<String> getHeaderNames() {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (String n : java.util.Collections.list(super.getHeaderNames())) {
                if (!hideToken || !n.equalsIgnoreCase(TOKEN_HEADER)) {
                    names.add(n);
                }
            }
            return java.util.Collections.enumeration(names);
        }

        @Override
        public jakarta.servlet.ServletInputStream getInputStream() throws IOException {
            body = super.getInputStream();
            return body;
        }

        /**
         * What S3Proxy's DEBUG line "request: ..." shows: the method, the path and the names of the
         * query parameters (never their values: a presigned URL's signature and token stay out of
         * logs). The side-by-side benchmarks count requests at the endpoint by it (bench/lib.sh).
         */
        @Override
        public String toString() {
            String q = getQueryString();
            String names = q == null ? "" : "?" + java.util.Arrays.stream(q.split("&")).map(p -> p.split("=", 2)[0])
                    .collect(java.util.stream.Collectors.joining("&"));
            return getMethod() + " " + getRequestURI() + names;
        }

        /**
         * Reads what S3Proxy left of a body it started reading. S3Proxy 4.0.0 stops reading an
         * {@code aws-chunked} body (the SDK's default for PutObject since it sends a checksum
         * trailer) after the last data chunk, before the final chunk and trailer; Jetty then
         * closes a {@code Connection: close} connection with those bytes unread, the kernel
         * answers them with a reset, and the client sees "Error writing request body to server"
         * for a PUT that was stored. Its retry finds the object: a duplicate event, or 412 for a
         * conditional create. S3 reads the whole body before it answers; so does this. A body
         * S3Proxy never started (a refusal before the client sent it, after {@code Expect:
         * 100-continue}) is left alone: reading it would ask the client for a body nobody wants.
         */
        void drain() {
            if (body == null) {
                return;
            }
            try {
                byte[] buffer = new byte[8192];
                while (body.read(buffer) >= 0) {
                    // discard: the bytes were already judged (S3Proxy checks the chunk signatures it reads)
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("S3 request body not drained: {}", e.toString());
            }
        }
    }

    /** The access key of a SigV4 or SigV2 request, header or presigned; null when unsigned. */
    static String accessKey(HttpServletRequest req) {
        String auth = req.getHeader("Authorization");
        if (auth != null) {
            Matcher m = V4_HEADER.matcher(auth);
            if (m.lookingAt()) {
                return m.group(1);
            }
            m = V2_HEADER.matcher(auth);
            if (m.lookingAt()) {
                return m.group(1);
            }
            return null;
        }
        String credential = query(req, "X-Amz-Credential");
        if (credential != null) {
            int slash = credential.indexOf('/');
            return slash < 0 ? credential : credential.substring(0, slash);
        }
        return query(req, "AWSAccessKeyId");
    }

    /** A query parameter, read from the query string only (getParameter may consume a form body). */
    static String query(HttpServletRequest req, String name) {
        String q = req.getQueryString();
        if (q == null) {
            return null;
        }
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            if (java.net.URLDecoder.decode(k, StandardCharsets.UTF_8).equals(name)) {
                return eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private String resource(HttpServletRequest req) {
        String key = objectKey(req);
        return key == null ? enforcement.identities().bucketArn() : enforcement.identities().objectArn(key);
    }

    /** The key of a path-style object request ({@code /bucket/key}), or null for a bucket request. */
    private static String objectKey(HttpServletRequest req) {
        String path = req.getRequestURI();
        String rest = path.startsWith("/") ? path.substring(1) : path;
        int slash = rest.indexOf('/');
        if (slash < 0 || slash == rest.length() - 1) {
            return null;
        }
        return java.net.URLDecoder.decode(rest.substring(slash + 1).replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static void error(HttpServletRequest req, HttpServletResponse res, int status, String code, String message)
            throws IOException {
        String requestId = UUID.randomUUID().toString().replace("-", "").substring(0, 16).toUpperCase(java.util.Locale.ROOT);
        res.setStatus(status);
        res.setHeader("x-amz-request-id", requestId);
        if (req.getMethod().equals("HEAD")) {
            return;
        }
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" + message
                + "</Message><RequestId>" + requestId + "</RequestId></Error>").getBytes(StandardCharsets.UTF_8);
        res.setContentType("application/xml");
        res.setContentLength(body.length);
        res.getOutputStream().write(body);
    }
}
