package io.tidemark.localcloud;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@code tidemark local-cloud --dir DIR [--s3-port N] [--api-port N] [--dynamodb-port N] [--host H] [--tls]
 * [--event-concurrency N]}:
 * runs the local cloud in the foreground until Ctrl-C (or SIGTERM), then stops cleanly.
 *
 * <p>Ports default to 9850 (S3), 9851 (API) and 9852 (DynamoDB): fixed, so that
 * {@code tidemark.conf}, and every node or shell configured from it, stay valid across restarts
 * of the same directory. {@code 0} takes any free port (tests; several clouds side by side).
 *
 * <p>Schedules: {@code DIR/schedules.json}, read at start, lists the schedules the local scheduler
 * runs (backups through the {@code backup-scheduler} function; see {@link LocalSchedule} and
 * docs/agent.md). A problem in the file stops the start with its position and reason.
 *
 * <p>Exit status: 0 after a clean stop, 1 when the cloud cannot start (one line on stderr says
 * why: busy port, unwritable directory, ...), 2 for a usage error.
 */
public final class LocalCloudMain {

    public static final int DEFAULT_S3_PORT = 9850;
    public static final int DEFAULT_API_PORT = 9851;
    public static final int DEFAULT_DYNAMODB_PORT = 9852;
    public static final int DEFAULT_CREDENTIALS_PORT = 9853;
    /** The stanza whose node credentials tidemark.conf names, unless --stanza says otherwise. */
    public static final String DEFAULT_STANZA = "main";

    static final String USAGE = "usage: tidemark local-cloud --dir DIR [--s3-port N] [--api-port N] "
            + "[--dynamodb-port N] [--credentials-port N] [--host ADDRESS] [--stanza NAME] [--tls] [--comparison-bucket NAME]"
            + " [--event-concurrency N]";

    private LocalCloudMain() {
    }

    public static void main(String[] args) {
        int status = run(args, System.out, System.err, true);
        if (status != 0) {
            System.exit(status);
        }
        // status 0: either --help, or the cloud ran and the JVM is already shutting down
        // (System.exit here would wait forever for the shutdown hooks).
    }

    /** Parsed command line. */
    record Options(Path dir, String host, int s3Port, int apiPort, int dynamoDbPort, int credentialsPort,
            String stanza, boolean tls, String comparisonBucket, int eventConcurrency) {
    }

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static Options parse(String[] args) throws UsageException {
        Path dir = null;
        String host = LocalCloud.DEFAULT_HOST;
        int s3 = DEFAULT_S3_PORT;
        int api = DEFAULT_API_PORT;
        int dynamo = DEFAULT_DYNAMODB_PORT;
        int credentials = DEFAULT_CREDENTIALS_PORT;
        String stanza = DEFAULT_STANZA;
        boolean tls = false;
        String comparison = null;
        int events = S3EventDispatcher.DEFAULT_CONCURRENCY;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "-h", "--help" -> throw new UsageException("");
                case "--tls" -> tls = true;
                case "--dir", "--s3-port", "--api-port", "--dynamodb-port", "--credentials-port", "--host",
                        "--stanza", "--comparison-bucket", "--event-concurrency" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (arg) {
                        case "--dir" -> dir = Path.of(value);
                        case "--host" -> host = value;
                        case "--s3-port" -> s3 = port(arg, value);
                        case "--api-port" -> api = port(arg, value);
                        case "--credentials-port" -> credentials = port(arg, value);
                        case "--stanza" -> stanza = value;
                        case "--comparison-bucket" -> comparison = value;
                        case "--event-concurrency" -> events = concurrency(arg, value);
                        default -> dynamo = port(arg, value);
                    }
                }
                default -> throw new UsageException("unknown argument: " + args[i]);
            }
        }
        if (dir == null) {
            throw new UsageException("--dir DIR is required");
        }
        return new Options(dir, host, s3, api, dynamo, credentials, stanza, tls, comparison, events);
    }

    private static int port(String option, String value) throws UsageException {
        return intIn(option, value, 0, 65535, "a port number");
    }

    private static int concurrency(String option, String value) throws UsageException {
        return intIn(option, value, 1, S3EventDispatcher.MAX_CONCURRENCY, "a number of S3 events handled at once,");
    }

    /** {@code value} as an int in [min, max], else "OPTION must be WHAT min-max, not 'VALUE'". */
    private static int intIn(String option, String value, int min, int max, String what) throws UsageException {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException(option + " must be " + what + " " + min + "-" + max + ", not '" + value + "'");
    }

    /**
     * Always under the stack's IAM (the template infra-cdk synthesizes): every component gets its
     * own principal's rotating session keys, nobody a key that may do everything.
     */
    static LocalCloud start(Options o) {
        io.tidemark.localcloud.iam.StackAccess access = LocalCloud.defaultStackAccess();
        return LocalCloudFunctions.register(LocalCloud.builder())
                .dir(o.dir())
                .host(o.host())
                .s3Port(o.s3Port())
                .apiPort(o.apiPort())
                .dynamoDbPort(o.dynamoDbPort())
                .tls(o.tls())
                .comparisonBucket(o.comparisonBucket())
                .s3EventConcurrency(o.eventConcurrency())
                .enforce(access, access)
                .credentialsPort(o.credentialsPort())
                .nodeStanza(o.stanza())
                .start();
    }

    /**
     * Runs the command. With {@code block} it waits for a shutdown signal; without (tests) it
     * stops right after the ready line.
     */
    static int run(String[] args, PrintStream out, PrintStream err, boolean block) {
        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            if (!e.getMessage().isEmpty()) {
                err.println("tidemark local-cloud: " + e.getMessage());
            }
            err.println(USAGE);
            return e.getMessage().isEmpty() ? 0 : 2;
        }
        LocalCloud cloud;
        try {
            cloud = start(options);
        } catch (LocalCloudException e) {
            err.println("tidemark local-cloud: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            err.println("tidemark local-cloud: cannot start: " + e);
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            try {
                cloud.close();
            } finally {
                stopped.countDown();
            }
        }, "tidemark-local-cloud-shutdown");
        if (block) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        out.println("tidemark local-cloud ready: config written to " + cloud.configFile());
        out.flush();
        if (!block) {
            hook.run();
            return 0;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
