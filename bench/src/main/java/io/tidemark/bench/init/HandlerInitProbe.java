package io.tidemark.bench.init;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs in a fresh JVM whose class path is the Lambda jar and this class only: loads and
 * constructs one handler the way the Lambda Java runtime does (by class name, public no-argument
 * constructor, configuration from the environment), then invokes it twice with the same event.
 * Prints one line: {@code handler initMs firstMs secondMs bytes answer}.
 *
 * <p>Uses nothing but the JDK and the Lambda jar, so that the classes loaded are the handler's.
 */
public final class HandlerInitProbe {

    private HandlerInitProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: HandlerInitProbe HANDLER_CLASS EVENT_JSON_FILE");
            System.exit(2);
        }
        byte[] event = Files.readAllBytes(Path.of(args[1]));
        long t0 = System.nanoTime();
        Class<?> type = Class.forName(args[0]);
        RequestStreamHandler handler = (RequestStreamHandler) type.getConstructor().newInstance();
        long t1 = System.nanoTime();
        ByteArrayOutputStream first = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(event), first, null);
        long t2 = System.nanoTime();
        ByteArrayOutputStream second = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(event), second, null);
        long t3 = System.nanoTime();
        String answer = first.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        System.out.printf("%s %.1f %.1f %.1f %s%n", type.getSimpleName(), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (t3 - t2) / 1e6, answer.length() > 160 ? answer.substring(0, 160) + "..." : answer);
    }
}
