package io.tidemark.events.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.tidemark.testkit.aws.RotatingCredentials;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The endpoint reader against a rotating endpoint (new keys every second, each valid for three). */
@Tag("unit")
class CredentialsEndpointTest {

    @Test
    void handsOutKeysThatAreNeverExpiredAcrossFiveRotations() throws Exception {
        try (RotatingCredentials rotating = new RotatingCredentials(Duration.ofSeconds(1), Duration.ofSeconds(3))) {
            CredentialsEndpoint endpoint = new CredentialsEndpoint(rotating.uri());
            Set<String> seen = new LinkedHashSet<>();
            int startIssued = rotating.issuedCount();
            while (rotating.issuedCount() - startIssued < 6) {
                SessionKeys k = endpoint.current();
                seen.add(k.accessKeyId());
                // renewed at half life: keys handed out have at least half of the (>= 1 s) lifetime left
                assertTrue(Instant.now().plusMillis(400).isBefore(k.expiration()), k + " handed out at " + Instant.now());
                assertTrue(rotating.lookup(k.accessKeyId()).orElseThrow().token().equals(k.sessionToken()));
                Thread.sleep(50);
            }
            assertTrue(seen.size() >= 4, "renewed as keys rotated: " + seen);
            // cached between renewals: far fewer fetches than calls
            assertTrue(endpoint.fetches() < 20, endpoint.fetches() + " fetches");
        }
    }

    @Test
    void anEndpointThatIsDownFailsTheCallWithItsNameThenTheNextCallRecovers() throws Exception {
        try (RotatingCredentials rotating = new RotatingCredentials(Duration.ofSeconds(1), Duration.ofSeconds(2))) {
            CredentialsEndpoint endpoint = new CredentialsEndpoint(rotating.uri());
            SessionKeys first = endpoint.current();
            rotating.down();
            // the cached keys still serve while usable ...
            assertEquals(first, endpoint.current());
            // ... and not once they are near expiry
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), first.expiration()).toMillis()));
            CredentialsUnavailable e = assertThrows(CredentialsUnavailable.class, endpoint::current);
            assertTrue(e.getMessage().startsWith("cannot read credentials from " + rotating.uri() + ": ConnectException"),
                    e.getMessage());
            rotating.up();
            SessionKeys again = endpoint.current();
            assertNotEquals(first.accessKeyId(), again.accessKeyId());
            assertTrue(again.expiration().isAfter(Instant.now()));
        }
    }

    @Test
    void keysRefusedAsExpiredAreFetchedAnew() {
        try (RotatingCredentials rotating = new RotatingCredentials(Duration.ofSeconds(30), Duration.ofSeconds(60))) {
            CredentialsEndpoint endpoint = new CredentialsEndpoint(rotating.uri());
            SessionKeys k = endpoint.current();
            endpoint.current();
            assertEquals(1, endpoint.fetches());
            endpoint.refused(new SessionKeys("ASIAOTHER", "x", null, null));
            endpoint.current();
            assertEquals(1, endpoint.fetches(), "keys other than the cached ones change nothing");
            endpoint.refused(k);
            endpoint.current();
            assertEquals(2, endpoint.fetches());
        }
    }

    @Test
    void badAnswersAreNamed() throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        String[] answer = {"{\"AccessKeyId\":\"A\"}"};
        int[] status = {200};
        s.createContext("/", ex -> {
            byte[] b = answer[0].getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status[0], b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        s.start();
        try {
            URI uri = URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/creds");
            CredentialsEndpoint endpoint = new CredentialsEndpoint(uri);
            assertEquals("the credentials endpoint " + uri + " gave an unusable answer: no AccessKeyId or SecretAccessKey",
                    assertThrows(CredentialsUnavailable.class, endpoint::current).getMessage());
            answer[0] = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"tomorrow\"}";
            assertEquals("the credentials endpoint " + uri + " gave an unusable answer: Expiration 'tomorrow' is not an"
                    + " ISO-8601 UTC time", assertThrows(CredentialsUnavailable.class, endpoint::current).getMessage());
            answer[0] = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\"2020-01-01T00:00:00Z\"}";
            assertEquals("the credentials endpoint " + uri + " gave keys that expired at 2020-01-01T00:00:00Z",
                    assertThrows(CredentialsUnavailable.class, endpoint::current).getMessage());
            answer[0] = "no such principal";
            status[0] = 404;
            assertEquals("the credentials endpoint " + uri + " answered HTTP 404: no such principal",
                    assertThrows(CredentialsUnavailable.class, endpoint::current).getMessage());
            answer[0] = "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\",\"Expiration\":\""
                    + Instant.now().plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\"}";
            status[0] = 200;
            SessionKeys k = endpoint.current();
            assertEquals("T", k.sessionToken());
            assertTrue(!k.toString().contains("S,") && k.toString().contains("***"), k.toString());
        } finally {
            s.stop(0);
        }
    }
}
