package io.tidemark.functions.runtime;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * A java.util.logging record as one JSON object on one line: {@code timestamp} (RFC 3339, UTC),
 * {@code level} in Lambda's names (TRACE, DEBUG, INFO, WARN, ERROR: Lambda's log-level filter reads
 * this key), {@code message} (parameters filled in), {@code logger}, and from the thread's
 * {@link FunctionLog} context {@code function}, {@code requestId} and {@code stanza} when known;
 * {@code error} holds the stack trace of a thrown exception. No line break inside: one record is
 * one CloudWatch log event.
 */
public final class JsonLogFormatter extends Formatter {

    @Override
    public String format(LogRecord record) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("timestamp", Instant.ofEpochMilli(record.getMillis()).toString());
        n.put("level", level(record.getLevel()));
        n.put("message", formatMessage(record));
        n.put("logger", record.getLoggerName());
        FunctionLog.State s = FunctionLog.current();
        String function = s != null && s.functionName() != null ? s.functionName()
                : System.getenv(FunctionLog.LAMBDA_FUNCTION_NAME);
        if (function != null) {
            n.put("function", function);
        }
        if (s != null && s.requestId() != null) {
            n.put("requestId", s.requestId());
        }
        if (s != null && s.stanza() != null) {
            n.put("stanza", s.stanza());
        }
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            n.put("error", trace.toString());
        }
        return n.toString();
    }

    static String level(Level level) {
        int v = level.intValue();
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (v >= Level.INFO.intValue()) {
            return "INFO";
        }
        if (v >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }
}
