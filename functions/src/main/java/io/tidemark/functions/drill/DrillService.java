package io.tidemark.functions.drill;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.metrics.MetricsPublisher;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Restore drills in the catalog: {@code DRILL#<drillId>} in the stanza's partition (the id starts
 * with the start time: the newest are one descending Query), kept {@link #KEPT} then removed by
 * TTL. Recording one publishes {@code DrillFailed} (1 or 0) and, when it passed, its RTO.
 */
public final class DrillService {
    public static final String PREFIX = "DRILL#";
    public static final Duration KEPT = Duration.ofDays(90);
    public static final int DEFAULT_LIST = 10;
    public static final int MAX_LIST = 100;

    private final CatalogStore store;
    private final MetricsPublisher metrics;
    private final Clock clock;

    public DrillService(CatalogStore store, MetricsPublisher metrics, Clock clock) {
        this.store = store;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * Records a drill once: the same id again with the same document is answered as recorded (a
     * retried request), with another document refused (409).
     */
    public ObjectNode record(StanzaName stanza, byte[] body) {
        DrillRecord r;
        try {
            r = DrillRecord.parse(body);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
        if (store.get(Keys.pk(stanza), Keys.META).isEmpty()) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "stanza " + stanza + " does not exist");
        }
        Item item = Item.of(Keys.pk(stanza), PREFIX + r.drillId(), Map.of("doc", r.document().toString(),
                "result", r.passed() ? "passed" : "failed",
                io.tidemark.functions.job.Job.TTL_ATTRIBUTE, clock.instant().plus(KEPT).getEpochSecond())).withRevision();
        if (!store.put(item, null)) {
            String existing = store.get(Keys.pk(stanza), PREFIX + r.drillId()).flatMap(i -> i.string("doc")).orElse("");
            if (!existing.equals(r.document().toString())) {
                throw new CatalogException(CatalogException.Kind.CONFLICT, "drill " + r.drillId()
                        + " is already recorded with other results");
            }
            return r.document();
        }
        Map<TidemarkMetric, Long> values = new EnumMap<>(TidemarkMetric.class);
        values.put(TidemarkMetric.DRILL_FAILED, r.passed() ? 0L : 1L);
        if (r.passed()) {
            values.put(TidemarkMetric.DRILL_RTO, Math.round(r.promotedMs() / 1000.0));
        }
        metrics.publish(stanza, clock.instant(), values);
        return r.document();
    }

    /** The newest {@code limit} drills, newest first. */
    public ArrayNode recent(StanzaName stanza, int limit) {
        if (limit < 1 || limit > MAX_LIST) {
            throw CatalogException.badRequest("limit must be an integer from 1 to " + MAX_LIST + ", not " + limit);
        }
        ArrayNode out = Json.mapper().createArrayNode();
        List<Item> items = new ArrayList<>(store.queryPage(Keys.pk(stanza), PREFIX, PREFIX + "~", true, limit));
        for (Item i : items) {
            try {
                out.add(Json.mapper().readTree(i.string("doc").orElse("{}")));
            } catch (IOException e) {
                throw new IllegalStateException("drill item " + i.sk() + " holds no JSON document", e);
            }
        }
        return out;
    }
}
