package io.tidemark.functions.runtime;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The loop every S3-triggered handler runs: each ObjectCreated record of this function's bucket
 * goes to the service (and, for a function that follows removals too, each ObjectRemoved and
 * LifecycleExpiration record); one record's failure does not stop the others, but all failures
 * are thrown together at the end, so Lambda retries the event (the services are idempotent).
 */
public final class ObjectCreatedEvents {
    private static final System.Logger LOG = System.getLogger(ObjectCreatedEvents.class.getName());

    /**
     * The service call for one created object, with the event's sequencer, the version id S3 gave
     * the object (either null when the event has none: an unversioned bucket) and the object's size
     * as the event reports it (-1: none), so that a service reads the version it was told about and
     * can refuse an object too large for its kind before reading it.
     */
    public interface ObjectAction<O extends Enum<O>> {
        O apply(String key, Instant eventTime, String sequencer, String versionId, long size);
    }

    /** The service call for one removed or expired object: the event's name and sequencer. */
    public interface RemovedAction<O extends Enum<O>> {
        O apply(String key, String eventName, String sequencer);
    }

    private ObjectCreatedEvents() {
    }

    /**
     * @param verb    what the function does to an object, for messages ("indexes", "validates")
     * @param created the service call for each created object
     * @param removed the service call for each removed or expired object; null: removals are skipped
     * @return the outcome counts as a JSON object, the function's answer
     */
    public static <O extends Enum<O>> byte[] process(S3EventNotification event, String bucket, String verb,
                                                     Class<O> outcomes, ObjectAction<O> created,
                                                     RemovedAction<O> removed) {
        Map<O, Integer> counts = new EnumMap<>(outcomes);
        List<RuntimeException> failures = new ArrayList<>();
        if (event.testEvent()) {
            LOG.log(System.Logger.Level.INFO, "s3:TestEvent: nothing to do");
        }
        for (S3EventNotification.Record r : event.records()) {
            boolean removal = r.isObjectRemoved() || r.isLifecycleExpiration();
            if (!r.isObjectCreated() && !(removal && removed != null)) {
                continue;
            }
            if (!bucket.equals(r.bucket())) {
                failures.add(new IllegalStateException("event for bucket " + r.bucket() + ", this function " + verb + " "
                        + bucket));
                continue;
            }
            // The stanza is the key's first path segment (<stanza>/wal/..., <stanza>/backup/...).
            int slash = r.key() == null ? -1 : r.key().indexOf('/');
            FunctionLog.stanza(slash > 0 ? r.key().substring(0, slash) : null);
            try {
                O o = r.isObjectCreated() ? created.apply(r.key(), r.eventTime(), r.sequencer(),
                        io.tidemark.functions.catalog.ObjectStore.versionOrNull(r.versionId()), r.size())
                        : removed.apply(r.key(), r.eventName(), r.sequencer());
                counts.merge(o, 1, Integer::sum);
                LOG.log(System.Logger.Level.DEBUG, "{0} {1}: {2}", r.eventName(), r.key(), o);
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
