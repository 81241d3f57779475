package io.tidemark.functions.runtime;

import io.tidemark.functions.catalog.RetryJitter;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;

/**
 * The SnapStart (CRaC) runtime hooks of one function instance. A handler registers them in
 * its constructor, one line:
 *
 * <pre>{@code this.snapStart = SnapStartHooks.register(aws, this::prime);}</pre>
 *
 * and keeps the returned object in a field: the CRaC context may hold resources weakly.
 *
 * <p>{@link #beforeCheckpoint} runs once, when Lambda publishes a version and takes the
 * snapshot. It primes the SDK clients (every operation the functions use, through the whole
 * client pipeline, stopped before sending: {@link SdkPriming}), then the handler's own hot path
 * (parse a representative event, route it, write an answer: no service call), and finally
 * drops any credentials resolved during init. A priming failure is logged, not thrown: priming
 * only saves time, and must not stop a version from being published.
 *
 * <p>{@link #afterRestore} runs in every execution environment restored from the snapshot and
 * re-creates what must differ between them: the credentials provider (nothing resolved,
 * nothing cached) and the seed of the retry jitter ({@link RetryJitter}). Its failures are
 * thrown: an environment that could not make itself unique must not serve.
 *
 * <p>On a JVM without CRaC (local-cloud, tests, Lambda without SnapStart) registering does
 * nothing and the hooks never run.
 */
public final class SnapStartHooks implements Resource {

    private static final System.Logger LOG = System.getLogger(SnapStartHooks.class.getName());

    /** The handler's own priming: runs its parse/route/answer code on representative input. */
    @FunctionalInterface
    public interface HotPath {
        void prime() throws Exception;
    }

    /** What the last {@link #beforeCheckpoint} did. */
    public record Priming(List<String> sdkOperations, List<String> sdkFailures, String hotPathFailure,
                          boolean credentialsRenewed, long millis) {
        public Priming {
            sdkOperations = List.copyOf(sdkOperations);
            sdkFailures = List.copyOf(sdkFailures);
        }

        public boolean hotPathPrimed() {
            return hotPathFailure == null;
        }
    }

    private final AwsClients aws;
    private final HotPath hotPath;
    private final AtomicInteger restores = new AtomicInteger();
    private volatile Priming lastPriming;

    private SnapStartHooks(AwsClients aws, HotPath hotPath) {
        this.aws = Objects.requireNonNull(aws, "aws");
        this.hotPath = Objects.requireNonNull(hotPath, "hotPath");
    }

    /** Registers hooks for {@code aws} and {@code hotPath} with the JVM's global CRaC context. */
    public static SnapStartHooks register(AwsClients aws, HotPath hotPath) {
        // Every handler registers here at cold start: the one place to make its log JSON in Lambda.
        FunctionLog.installInLambda();
        return register(Core.getGlobalContext(), aws, hotPath);
    }

    /** Registers with {@code context} (tests drive a context of their own). */
    public static SnapStartHooks register(Context<Resource> context, AwsClients aws, HotPath hotPath) {
        SnapStartHooks hooks = new SnapStartHooks(aws, hotPath);
        context.register(hooks);
        return hooks;
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        long t0 = System.nanoTime();
        SdkPriming.Result sdk = aws.prime();
        String hotPathFailure = null;
        try {
            hotPath.prime();
        } catch (Exception | LinkageError e) {
            hotPathFailure = e.toString();
            LOG.log(System.Logger.Level.WARNING, "SnapStart priming of the handler failed (the snapshot is taken anyway)", e);
        }
        // Whatever init resolved (nothing, normally) must not be in the snapshot.
        boolean renewed = aws.renewCredentials();
        Priming p = new Priming(sdk.primed(), sdk.failed(), hotPathFailure, renewed, (System.nanoTime() - t0) / 1_000_000);
        lastPriming = p;
        if (!sdk.failed().isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "SnapStart priming: SDK operations not primed: {0}", sdk.failed());
        }
        LOG.log(System.Logger.Level.INFO, "SnapStart priming: {0} SDK operations, handler {1}, {2} ms",
                sdk.primed().size(), hotPathFailure == null ? "primed" : "failed", p.millis());
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        aws.renewCredentials();
        RetryJitter.reseed();
        restores.incrementAndGet();
    }

    /** The last priming, or null before any checkpoint. */
    public Priming lastPriming() {
        return lastPriming;
    }

    /** How many restores this instance went through. */
    public int restores() {
        return restores.get();
    }
}
