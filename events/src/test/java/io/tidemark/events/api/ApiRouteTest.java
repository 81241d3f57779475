package io.tidemark.events.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ApiRouteTest {

    @Test
    void eachMethodAndResourceIsDeclaredOnce() {
        Set<String> seen = new HashSet<>();
        for (ApiRoute r : ApiRoute.values()) {
            assertTrue(seen.add(r.method() + " " + r.template()), r + " is declared twice");
            assertTrue(r.template().startsWith("/"), r.template());
            assertEquals(Optional.of(r), ApiRoute.find(r.method(), r.template()));
        }
        assertEquals(Optional.empty(), ApiRoute.find("PATCH", "/stanzas/{stanza}"));
        assertEquals(Optional.empty(), ApiRoute.find("GET", "/nowhere"));
    }

    @Test
    void pathsPutTheValuesInTemplateOrder() {
        assertEquals("/stanzas/main", ApiRoute.CATALOG_GET.path("main"));
        assertEquals("/stanzas/main/jobs/20260501T101112Z-ab12/claim",
                ApiRoute.JOB_CLAIM.path("main", "20260501T101112Z-ab12"));
        assertEquals("/restore-plans/0f1e-2d/urls", ApiRoute.PLAN_URLS.path("0f1e-2d"));
        assertEquals(List.of("stanza", "jobId"), ApiRoute.JOB_REPORT.pathVariables());
    }

    @Test
    void aValueIsOneSegmentWhateverItHolds() {
        assertEquals("/stanzas/main/verify/a%2Fb%3Fc%20d%C3%A9", ApiRoute.VERIFY_RUN.path("main", "a/b?c d\u00e9"));
        var twoDots = assertThrows(IllegalArgumentException.class, () -> ApiRoute.VERIFY_RUN.path("main", ".."));
        assertEquals("{runId} of GET /stanzas/{stanza}/verify/{runId} cannot be '..' (not a path segment)",
                twoDots.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ApiRoute.CATALOG_GET.path(""));
        var count = assertThrows(IllegalArgumentException.class, () -> ApiRoute.JOB_CLAIM.path("main"));
        assertEquals("POST /stanzas/{stanza}/jobs/{jobId}/claim takes 2 path values [stanza, jobId], not 1",
                count.getMessage());
    }

    @Test
    void grantsNameTheStanzaAndWildcardTheRest() {
        assertEquals("/stanzas/main/jobs/*/claim", ApiRoute.JOB_CLAIM.grantPath("main"));
        assertEquals("/restore-plans/*/urls", ApiRoute.PLAN_URLS.grantPath("main"));
        assertEquals("/stanzas/main", ApiRoute.CATALOG_PUT.grantPath("main"));
    }

    @Test
    void requestParametersAreThePathVariablesThenTheRequiredQuery() {
        assertEquals(List.of("method.request.path.stanza", "method.request.querystring.leaseId"),
                ApiRoute.LEASE_RELEASE.requiredRequestParameters());
        assertEquals(List.of("method.request.path.stanza", "method.request.path.runId"),
                ApiRoute.VERIFY_RUN.requiredRequestParameters());
    }

    @Test
    void allowListsEveryMethodOfAResourceInTableOrder() {
        assertEquals("GET, PUT", ApiRoute.allowedOn("/stanzas/{stanza}"));
        assertEquals("POST, PUT, DELETE", ApiRoute.allowedOn("/stanzas/{stanza}/backup-lease"));
        assertEquals("", ApiRoute.allowedOn("/nowhere"));
    }

    @Test
    void localNamesAreTheConstantsInKebabCase() {
        assertEquals("catalog-get", ApiRoute.CATALOG_GET.localName());
        assertEquals("conflict-report", ApiRoute.CONFLICT_REPORT.localName());
    }
}
