package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.events.api.ApiRoute;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The API key rules local-cloud reads from the committed stack template are the route table's:
 * a route added to the table but not to the template (or the reverse) fails here until the
 * template is regenerated (infra-cdk StackTemplateForLocalCloudTest).
 */
@Tag("unit")
class ApiKeyRulesTableTest {

    @Test
    void theStackRequiresAKeyOnExactlyTheTablesKeyedRoutes() {
        Set<String> table = Arrays.stream(ApiRoute.values()).filter(ApiRoute::apiKeyRequired)
                .map(r -> r.method() + " " + r.template()).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(table, new TreeSet<>(ApiKeyRules.ofStack().keyRequired()));
    }
}
