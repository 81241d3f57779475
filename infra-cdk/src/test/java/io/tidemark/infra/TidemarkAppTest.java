package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class TidemarkAppTest {

    @Test
    void missingFunctionsJarSaysHowToBuildIt() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TidemarkApp.requireFunctionsJar(Path.of("no/such/tidemark-functions-lambda.jar")));
        assertTrue(e.getMessage().contains("tidemark-functions-lambda.jar does not exist"), e.getMessage());
        assertTrue(e.getMessage().contains("./mvnw -q -pl functions -am package -DskipTests"), e.getMessage());
    }

    @Test
    void presentJarIsAccepted() {
        assertDoesNotThrow(() -> TidemarkApp.requireFunctionsJar(Synth.standInJar()));
    }
}
