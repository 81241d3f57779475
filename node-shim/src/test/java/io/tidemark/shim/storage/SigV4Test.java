package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class SigV4Test {
    private static final AwsCredentials EXAMPLE = new AwsCredentials("AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);

    /** "get-vanilla" from the AWS Signature Version 4 test suite. */
    @Test
    void awsTestSuiteGetVanilla() {
        Map<String, String> h = new LinkedHashMap<>();
        SigV4.sign("GET", URI.create("https://example.amazonaws.com/"), h, SigV4.EMPTY_SHA256, EXAMPLE, "us-east-1",
                "service", Instant.parse("2015-08-30T12:36:00Z"), false);
        assertEquals("20150830T123600Z", h.get("x-amz-date"));
        assertEquals("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", h.get("Authorization"));
    }

    @Test
    void sessionTokenIsSentAndSigned() {
        Map<String, String> h = new LinkedHashMap<>();
        SigV4.sign("GET", URI.create("http://127.0.0.1:9000/b/k"), h, SigV4.EMPTY_SHA256,
                new AwsCredentials("AK", "SK", "TOKEN"), "us-east-1", "s3", Instant.parse("2026-01-01T00:00:00Z"), true);
        assertEquals("TOKEN", h.get("x-amz-security-token"));
        assertEquals(true, h.get("Authorization").contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
    }

    @Test
    void hostHeaderAndEncoding() {
        assertEquals("127.0.0.1:9000", SigV4.hostHeader(URI.create("http://127.0.0.1:9000/x")));
        assertEquals("s3.amazonaws.com", SigV4.hostHeader(URI.create("https://s3.amazonaws.com:443/x")));
        assertEquals("a%20b%2Fc~", SigV4.encode("a b/c~"));
        assertEquals("/stanzas/a%2520b", SigV4.canonicalPath("/stanzas/a%20b", false));
        assertEquals("/b/a%20b", SigV4.canonicalPath("/b/a%20b", true));
        assertEquals("a=1&b=2", SigV4.canonicalQuery("b=2&a=1"));
    }

    @Test
    void amzDateIsUtcWithZeroPadding() {
        assertEquals("20260102T030405Z", SigV4.amzDate(Instant.parse("2026-01-02T03:04:05.987Z")));
        assertEquals("19991231T235959Z", SigV4.amzDate(Instant.parse("1999-12-31T23:59:59Z")));
    }

    @Test
    void runsOfSpacesInHeaderValuesBecomeOne() {
        assertEquals("a b c", SigV4.collapseSpaces("a  b   c"));
        assertEquals("plain", SigV4.collapseSpaces("plain"));
        assertEquals(" x", SigV4.collapseSpaces("   x"));
    }
}
