package io.tidemark.infra;

import io.github.cdklabs.cdknag.AwsSolutionsChecks;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Aspects;
import software.amazon.awscdk.Environment;
import software.amazon.awscdk.StackProps;

/**
 * Entry point of the CDK app ({@code cdk.json}: {@code bash bin/cdk-app}, which runs this class
 * through the Maven wrapper). Reads the context, refuses to go on without the functions' jar,
 * builds {@link TidemarkStack} and applies the cdk-nag AwsSolutions checks, so an unsuppressed
 * finding fails {@code cdk synth} and {@code cdk deploy}.
 */
public final class TidemarkApp {

    public static final String STACK_NAME = "TidemarkStack";

    /**
     * Feature flags the stack relies on, set here so that tests, {@code cdk synth} and a
     * missing {@code cdk.json} entry all give the same template.
     */
    public static final java.util.Map<String, Object> FEATURE_FLAGS = java.util.Map.of(
            // Server access logs delivered by bucket policy, not ACLs (ACLs are disabled).
            "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", true);

    private TidemarkApp() {
    }

    public static void main(String[] args) {
        App app = new App();
        TidemarkConfig config;
        try {
            config = TidemarkConfig.fromContext(app.getNode()::tryGetContext);
            requireFunctionsJar(config.functionsJar());
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("tidemark cdk: " + e.getMessage());
            System.exit(2);
            return;
        }
        build(app, config);
        app.synth();
    }

    /** Adds the stack (with its nag suppressions) and the AwsSolutions checks to {@code app}. */
    public static TidemarkStack build(App app, TidemarkConfig config) {
        FEATURE_FLAGS.forEach((flag, value) -> app.getNode().setContext(flag, value));
        StackProps.Builder props = StackProps.builder()
                .description("Tidemark: serverless point-in-time recovery for PostgreSQL");
        String account = System.getenv("CDK_DEFAULT_ACCOUNT");
        String region = System.getenv("CDK_DEFAULT_REGION");
        if (account != null && region != null) {
            props.env(Environment.builder().account(account).region(region).build());
        }
        TidemarkStack stack = new TidemarkStack(app, STACK_NAME, props.build(), config);
        NagSuppressionsForTidemark.apply(stack);
        Aspects.of(app).add(AwsSolutionsChecks.Builder.create().verbose(true).build());
        return stack;
    }

    /**
     * @throws IllegalStateException saying how to build the jar when it is missing
     */
    public static void requireFunctionsJar(Path jar) {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the Lambda package " + jar.toAbsolutePath().normalize()
                    + " does not exist. Build it from the repository root with:\n"
                    + "    ./mvnw -q -pl functions -am package -DskipTests\n"
                    + "(or point -c " + TidemarkConfig.FUNCTIONS_JAR + "=PATH at a built jar)");
        }
    }
}
