package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.storage.AwsCredentials;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The heartbeat's rules against a small HTTP catalog that answers what each test sets, on a clock the test moves. */
@Tag("unit")
class BackupLeaseTest {
    static final String LEASE_ID = "0f4f1c2e-7d1a-4a53-9a8e-1f2b3c4d5e6f";
    static final long S = TimeUnit.SECONDS.toNanos(1);

    HttpServer server;
    final AtomicInteger status = new AtomicInteger(200);
    final AtomicInteger renewals = new AtomicInteger();
    final AtomicLong now = new AtomicLong();
    final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    CatalogApi api;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            renewals.incrementAndGet();
            int code = status.get();
            byte[] body = (code == 200 ? "{\"expiresAt\":\"2026-01-01T00:01:00Z\"}"
                    : code == 409 ? "{\"message\":\"lease " + LEASE_ID + " of stanza main is no longer held\"}"
                    : "{\"message\":\"service unavailable\"}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(code, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        api = new CatalogApi(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "us-east-1",
                CredentialSource.fixed(new AwsCredentials("AKIDEXAMPLE", "secret", null)), Retry.of(0));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    BackupLease keeper(int ttl) {
        return new BackupLease(api, StanzaName.of("main"), LEASE_ID, err, ttl, 0, now::get, false);
    }

    @Test
    void aHeartbeatEveryQuarterOfTheTtl() {
        assertEquals(15 * S, BackupLease.interval(60));
        assertEquals(S, BackupLease.interval(2), "never more often than once a second");
    }

    @Test
    void renewalsKeepTheLeaseAndTransientFailuresAreOnlyWarnings() {
        BackupLease k = keeper(60);
        for (int beat = 1; beat <= 8; beat++) {
            now.set(beat * 15 * S);
            status.set(beat % 2 == 0 ? 503 : 200);
            k.renew();
            assertNull(k.lost(), "beat " + beat + ": one failed renewal between good ones loses nothing");
        }
        assertEquals(8, renewals.get());
        assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains("lease heartbeat failed (will retry): "));
        assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains("HTTP 503"));
    }

    @Test
    void aBackupWhoseHeartbeatKeepsFailingStopsBeforeTheLeaseCanExpire() {
        BackupLease k = keeper(60);
        status.set(503);
        now.set(15 * S);
        k.renew();
        now.set(30 * S);
        k.renew();
        assertNull(k.lost());
        now.set(45 * S);
        k.renew();
        String lost = k.lost();
        assertNotNull(lost, "the third failure leaves less than one interval: stop now, not after expiry");
        assertTrue(lost.startsWith("it could not be renewed for 45 s of its 60 s (last error: "), lost);
        assertTrue(lost.contains("HTTP 503"), lost);
    }

    @Test
    void aHeartbeatThatHangsStillEndsTheLeaseAtItsExpiry() {
        BackupLease k = keeper(60);
        now.set(59 * S);
        assertNull(k.lost());
        now.set(60 * S);
        assertNotNull(k.lost(), "no renewal confirmed for a whole TTL: the lease may be someone else's");
    }

    @Test
    void aLeaseTakenOverIsLostAtOnce() {
        BackupLease k = keeper(60);
        status.set(409);
        now.set(15 * S);
        k.renew();
        assertTrue(k.lost().contains("is no longer held"), k.lost());
    }
}
