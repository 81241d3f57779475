package io.tidemark.functions.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import java.io.PrintStream;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * What every log line of a function says about its invocation: the function's name, the request
 * id of the invocation (the Lambda context's {@code awsRequestId}) and, once known, the stanza.
 * Handlers open an {@link Invocation} around their work; code that learns the stanza (event
 * parsing) calls {@link #stanza}. The values are per thread: a line written by a pool thread the
 * invocation started carries the function name only.
 *
 * <p>In Lambda ({@code AWS_LAMBDA_FUNCTION_NAME} set) {@link #installInLambda} replaces the
 * java.util.logging console handler (two plain-text lines per record on stderr) by one that
 * writes each record as one JSON object on standard output ({@link JsonLogFormatter}); the
 * functions log through {@link System.Logger}, which is java.util.logging here. Installing does
 * nothing but configure a handler, so it is cheap at cold start and survives a SnapStart restore.
 */
public final class FunctionLog {

    /** Set by Lambda in every execution environment. */
    static final String LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME";
    /** Set by Lambda when the function has an application log level (JSON log format). */
    static final String LAMBDA_LOG_LEVEL = "AWS_LAMBDA_LOG_LEVEL";

    private static final ThreadLocal<State> CURRENT = new ThreadLocal<>();
    private static volatile boolean installed;

    /** What the current thread's invocation has said about itself. */
    record State(String functionName, String requestId, String stanza) {
    }

    private FunctionLog() {
    }

    /** The invocation's log context; closing it forgets request id and stanza. */
    public static final class Invocation implements AutoCloseable {
        private final State previous;

        private Invocation(State previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }

    /** Starts the log context of one invocation ({@code context} may be null: priming, tests). */
    public static Invocation begin(Context context) {
        State previous = CURRENT.get();
        String function = context != null && context.getFunctionName() != null ? context.getFunctionName()
                : System.getenv(LAMBDA_FUNCTION_NAME);
        CURRENT.set(new State(function, context == null ? null : context.getAwsRequestId(), null));
        return new Invocation(previous);
    }

    /** The stanza the current invocation works on, for the lines that follow. */
    public static void stanza(String stanza) {
        State s = CURRENT.get();
        if (s != null && stanza != null) {
            CURRENT.set(new State(s.functionName(), s.requestId(), stanza));
        }
    }

    /** The current thread's context (null outside an invocation). */
    static State current() {
        return CURRENT.get();
    }

    /**
     * In Lambda: every java.util.logging record becomes one JSON line on standard output, at the
     * level Lambda passes ({@value #LAMBDA_LOG_LEVEL}, INFO when unset). Elsewhere (local-cloud,
     * tests, the CLI) logging is left as the host configured it. Idempotent.
     */
    public static void installInLambda() {
        String function = System.getenv(LAMBDA_FUNCTION_NAME);
        if (installed || function == null || function.isBlank()) {
            return;
        }
        synchronized (FunctionLog.class) {
            if (installed) {
                return;
            }
            install(System.out, level(System.getenv(LAMBDA_LOG_LEVEL)));
            installed = true;
        }
    }

    /** Replaces the root logger's handlers by one writing JSON lines to {@code out}. */
    static Handler install(PrintStream out, Level level) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        Handler json = new JsonLineHandler(out);
        json.setLevel(level);
        root.addHandler(json);
        root.setLevel(level);
        return json;
    }

    /**
     * A handler writing each record as one JSON line to {@code out}, as in Lambda: for hosts that
     * run the functions in process (a test attaches it to see what a function would log).
     */
    public static Handler jsonHandler(PrintStream out) {
        return new JsonLineHandler(out);
    }

    /** Lambda's level names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) as java.util.logging levels. */
    static Level level(String lambdaLevel) {
        if (lambdaLevel == null) {
            return Level.INFO;
        }
        return switch (lambdaLevel.strip().toUpperCase(java.util.Locale.ROOT)) {
            case "TRACE" -> Level.FINEST;
            case "DEBUG" -> Level.FINE;
            case "WARN" -> Level.WARNING;
            case "ERROR", "FATAL" -> Level.SEVERE;
            default -> Level.INFO;
        };
    }

    /** One JSON line per record, written and flushed at once (no buffering to lose at a freeze). */
    static final class JsonLineHandler extends Handler {
        private final PrintStream out;

        JsonLineHandler(PrintStream out) {
            this.out = out;
            setFormatter(new JsonLogFormatter());
        }

        @Override
        public void publish(LogRecord record) {
            if (!isLoggable(record)) {
                return;
            }
            String line = getFormatter().format(record);
            synchronized (out) {
                out.println(line);
                out.flush();
            }
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }
}
