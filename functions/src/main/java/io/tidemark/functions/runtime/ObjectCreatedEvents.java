package io.tidemark.functions.runtime;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The loop every S3-triggered handler runs: each ObjectCreated record of this function's bucket
 * goes to the service; one record's failure does not stop the others, but all failures are
 * thrown together at the end, so Lambda retries the event (the services are idempotent).
 */
public final class ObjectCreatedEvents {
    private static final System.Logger LOG = System.getLogger(ObjectCreatedEvents.class.getName());

    /** The service call for one object; returns what it did. */
    public interface Action<O extends Enum<O>> {
        O apply(String key, Instant eventTime);
    }

    private ObjectCreatedEvents() {
    }

    /**
     * @param verb what the function does to an object, for messages ("indexes", "validates")
     * @return the outcome counts as a JSON object, the function's answer
     */
    public static <O extends Enum<O>> byte[] process(S3EventNotification event, String bucket, String verb,
                                                     Class<O> outcomes, Action<O> action) {
        Map<O, Integer> counts = new EnumMap<>(outcomes);
        List<RuntimeException> failures = new ArrayList<>();
        if (event.testEvent()) {
            LOG.log(System.Logger.Level.INFO, "s3:TestEvent: nothing to do");
        }
        for (S3EventNotification.Record r : event.records()) {
            if (!r.isObjectCreated()) {
                continue;
            }
            if (!bucket.equals(r.bucket())) {
                failures.add(new IllegalStateException("event for bucket " + r.bucket() + ", this function " + verb + " "
                        + bucket));
                continue;
            }
            try {
                O o = action.apply(r.key(), r.eventTime());
                counts.merge(o, 1, Integer::sum);
                LOG.log(System.Logger.Level.DEBUG, "{0}: {1}", r.key(), o);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, verb + " " + r.key() + " failed", e);
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            for (int i = 1; i < failures.size(); i++) {
                first.addSuppressed(failures.get(i));
            }
            throw first;
        }
        StringBuilder json = new StringBuilder("{");
        counts.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k.name()).append("\":")
                .append(v));
        return json.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }
}
