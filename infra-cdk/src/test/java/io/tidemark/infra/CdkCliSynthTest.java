package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real CDK CLI ({@code cdk synth}) on {@code cdk.json}, the way an operator does: the CLI
 * runs {@code bin/cdk-app}, which runs the app through the Maven wrapper. Needs the pinned CLI
 * in {@code infra-cdk/node_modules} ({@code npm ci --prefix infra-cdk}); skipped without it.
 * Slow (two nested Maven runs, about 30 s), hence its own tag.
 */
@Tag("cdk-cli")
class CdkCliSynthTest {

    static final Path MODULE = Path.of("").toAbsolutePath();
    static final Path CLI = MODULE.resolve("node_modules/.bin/cdk");
    static final Path REAL_JAR = MODULE.resolve(TidemarkConfig.DEFAULT_FUNCTIONS_JAR).normalize();

    record Run(int exit, String stdout, String stderr) {
    }

    /** Per test, so that surefire reports both as skipped, with the reason. */
    static void cliPresent() {
        assumeTrue(Files.isExecutable(CLI), "the CDK CLI is not installed in infra-cdk/node_modules:"
                + " run `npm ci --prefix infra-cdk` to enable this test");
    }

    static Run cdk(Path out, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CLI.toString(), "synth", "--quiet", "--no-notices",
                "--output", out.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(MODULE.toFile());
        pb.environment().put("CDK_DISABLE_CLI_TELEMETRY", "true");
        pb.environment().put("CDK_DISABLE_VERSION_CHECK", "true");
        Path stdout = Files.createTempFile("cdk-out", ".txt");
        Path stderr = Files.createTempFile("cdk-err", ".txt");
        pb.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("cdk synth did not finish in 5 minutes");
        }
        return new Run(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
                Files.readString(stderr, StandardCharsets.UTF_8));
    }

    @Test
    void synthFromCdkJson(@TempDir Path out) throws Exception {
        cliPresent();
        List<String> args = new ArrayList<>();
        if (!Files.isRegularFile(REAL_JAR)) {
            // Built by `./mvnw package` of the whole reactor; with -pl infra-cdk it may be missing.
            args.addAll(List.of("-c", TidemarkConfig.FUNCTIONS_JAR + "=" + Synth.standInJar()));
        }
        args.addAll(List.of("-c", "stanzas=main,reports"));
        Run run = cdk(out, args);
        assertEquals(0, run.exit(), run.stderr());
        Path template = out.resolve(TidemarkApp.STACK_NAME + ".template.json");
        assertTrue(Files.isRegularFile(template), "template written: " + run.stderr());
        JsonNode t = new ObjectMapper().readTree(template.toFile());
        int functions = 0;
        for (JsonNode r : t.path("Resources")) {
            if (r.path("Type").asText().equals("AWS::Lambda::Function")
                    && r.path("Properties").path("Runtime").asText().equals("java21")) {
                functions++;
            }
        }
        assertEquals(10, functions, "one per handler: indexer, validator, catalog API, planner, scheduler, retention, expire API,"
                + " verify, verify API, stanza metrics");
        assertTrue(t.path("Outputs").has("NodePolicyArnreports"));
        assertTrue(Files.isRegularFile(out.resolve("AwsSolutions-TidemarkStack-NagReport.csv")), "cdk-nag ran");
    }

    @Test
    void missingJarFailsWithHowToBuildIt(@TempDir Path out) throws Exception {
        cliPresent();
        Run run = cdk(out, List.of("-c", TidemarkConfig.FUNCTIONS_JAR + "=" + out.resolve("missing.jar")));
        assertNotEquals(0, run.exit());
        assertTrue(run.stderr().contains("./mvnw -q -pl functions -am package -DskipTests"), run.stderr());
    }
}
