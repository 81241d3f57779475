package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Function log lines: one JSON object each, with level, message, function, request id and stanza. */
@Tag("unit")
class FunctionLogTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final System.Logger LOG = System.getLogger("io.tidemark.functions.test.FunctionLogTest");

    ByteArrayOutputStream buffer;
    Handler handler;
    Logger logger;

    @BeforeEach
    void capture() {
        buffer = new ByteArrayOutputStream();
        handler = FunctionLog.jsonHandler(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        handler.setLevel(Level.ALL);
        logger = Logger.getLogger("io.tidemark.functions.test");
        logger.setLevel(Level.ALL);
        logger.setUseParentHandlers(false);
        logger.addHandler(handler);
    }

    @AfterEach
    void release() {
        logger.removeHandler(handler);
        logger.setUseParentHandlers(true);
    }

    List<JsonNode> lines() throws Exception {
        String text = buffer.toString(StandardCharsets.UTF_8);
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String line : text.split("\n")) {
            out.add(MAPPER.readTree(line));
        }
        return out;
    }

    @Test
    void aLineInsideAnInvocationNamesFunctionRequestAndStanza() throws Exception {
        try (FunctionLog.Invocation i = FunctionLog.begin(context("WalIndex", "5f1c-request"))) {
            LOG.log(System.Logger.Level.INFO, "before the stanza is known");
            FunctionLog.stanza("main");
            LOG.log(System.Logger.Level.WARNING, "segment {0} is {1}", "000000010000000000000005", "corrupt");
        }
        LOG.log(System.Logger.Level.INFO, "after the invocation");
        List<JsonNode> l = lines();
        assertEquals(3, l.size(), l.toString());
        assertEquals("INFO", l.get(0).get("level").asText());
        assertEquals("WalIndex", l.get(0).get("function").asText());
        assertEquals("5f1c-request", l.get(0).get("requestId").asText());
        assertFalse(l.get(0).has("stanza"));
        assertEquals("WARN", l.get(1).get("level").asText());
        assertEquals("segment 000000010000000000000005 is corrupt", l.get(1).get("message").asText());
        assertEquals("main", l.get(1).get("stanza").asText());
        assertEquals("5f1c-request", l.get(1).get("requestId").asText());
        assertTrue(l.get(1).get("timestamp").asText().endsWith("Z"), "RFC 3339 in UTC: " + l.get(1));
        assertFalse(l.get(2).has("requestId"), "the context ends with the invocation: " + l.get(2));
        assertFalse(l.get(2).has("stanza"));
    }

    @Test
    void anExceptionStaysInsideItsOneLine() throws Exception {
        try (FunctionLog.Invocation i = FunctionLog.begin(context("Verify", "r-2"))) {
            LOG.log(System.Logger.Level.ERROR, "batch failed", new IllegalStateException("S3 said 503\nand more"));
        }
        String text = buffer.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.strip().split("\n").length, text);
        JsonNode l = lines().get(0);
        assertEquals("ERROR", l.get("level").asText());
        assertTrue(l.get("error").asText().contains("IllegalStateException: S3 said 503"), l.toString());
    }

    @Test
    void installedAsInLambdaEveryRecordIsOneJsonLineAtTheLevelLambdaGives() throws Exception {
        Logger root = java.util.logging.LogManager.getLogManager().getLogger("");
        Handler[] before = root.getHandlers();
        Level rootLevel = root.getLevel();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            FunctionLog.install(new PrintStream(out, true, StandardCharsets.UTF_8), FunctionLog.level("WARN"));
            assertEquals(1, root.getHandlers().length, "the console handler is replaced");
            System.Logger log = System.getLogger("io.tidemark.functions.other");
            try (FunctionLog.Invocation i = FunctionLog.begin(context("Retention", "r-9"))) {
                FunctionLog.stanza("main");
                log.log(System.Logger.Level.INFO, "filtered at WARN");
                log.log(System.Logger.Level.WARNING, "kept");
            }
        } finally {
            for (Handler h : root.getHandlers()) {
                root.removeHandler(h);
            }
            for (Handler h : before) {
                root.addHandler(h);
            }
            root.setLevel(rootLevel);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.strip().split("\n").length, text);
        JsonNode l = MAPPER.readTree(text);
        assertEquals("kept", l.get("message").asText());
        assertEquals("WARN", l.get("level").asText());
        assertEquals("Retention", l.get("function").asText());
        assertEquals("r-9", l.get("requestId").asText());
        assertEquals("main", l.get("stanza").asText());
    }

    @Test
    void levelsUseLambdasNames() {
        assertEquals("DEBUG", JsonLogFormatter.level(Level.FINE));
        assertEquals("TRACE", JsonLogFormatter.level(Level.FINEST));
        assertEquals(Level.WARNING, FunctionLog.level("WARN"));
        assertEquals(Level.FINE, FunctionLog.level("debug"));
        assertEquals(Level.INFO, FunctionLog.level(null));
    }

    static Context context(String function, String requestId) {
        return new Context() {
            @Override
            public String getAwsRequestId() {
                return requestId;
            }

            @Override
            public String getLogGroupName() {
                return "/aws/lambda/" + function;
            }

            @Override
            public String getLogStreamName() {
                return "s";
            }

            @Override
            public String getFunctionName() {
                return function;
            }

            @Override
            public String getFunctionVersion() {
                return "1";
            }

            @Override
            public String getInvokedFunctionArn() {
                return "arn:aws:lambda:us-east-1:000000000000:function:" + function;
            }

            @Override
            public CognitoIdentity getIdentity() {
                return null;
            }

            @Override
            public ClientContext getClientContext() {
                return null;
            }

            @Override
            public int getRemainingTimeInMillis() {
                return 1000;
            }

            @Override
            public int getMemoryLimitInMB() {
                return 512;
            }

            @Override
            public LambdaLogger getLogger() {
                return null;
            }
        };
    }
}
