package io.tidemark.events.metrics;

/**
 * The custom CloudWatch metrics the Tidemark functions publish, one definition for both sides:
 * the functions render them (embedded metric format) and the CDK stack's alarms watch them. Every
 * value is per stanza: namespace {@value #NAMESPACE}, one dimension {@value #DIMENSION} whose
 * value is the stanza name, nothing else (an alarm matches a metric only on the exact dimension
 * set, so a publisher that added a dimension would feed no alarm).
 */
public enum TidemarkMetric {

    /**
     * Seconds from the arrival in the bucket (the S3 event time) of the stanza's newest archived
     * WAL segment to the moment of publishing; since the stanza was created while none arrived.
     * Grows while nothing is archived, whether the node stopped pushing or nothing is written.
     */
    ARCHIVE_LAG("ArchiveLagSeconds", Unit.SECONDS),
    /**
     * Seconds from the stop time of the stanza's newest valid backup to the moment of publishing;
     * since the stanza was created while it has no valid backup.
     */
    LAST_VALID_BACKUP_AGE("LastValidBackupAgeSeconds", Unit.SECONDS),
    /** Problems the newest whole-stanza verify run found (0: clean). */
    VERIFY_PROBLEMS("VerifyProblems", Unit.COUNT),
    /** Seconds since the last clean whole-stanza verify run (since the stanza was created when none). */
    LAST_CLEAN_VERIFY_AGE("LastCleanVerifyAgeSeconds", Unit.SECONDS),
    /**
     * Objects or manifests that arrived for something the cloud had already accepted with other
     * content (a WAL segment, history file or backup label written a second time, differently), or a
     * refused re-push the shim reports: the catalog kept the original; each one is counted.
     */
    HISTORY_CONFLICTS("HistoryConflicts", Unit.COUNT);

    public static final String NAMESPACE = "Tidemark";
    public static final String DIMENSION = "Stanza";

    /** CloudWatch units the metrics use (the names are CloudWatch's). */
    public enum Unit {
        SECONDS("Seconds"), COUNT("Count");

        private final String cloudWatchName;

        Unit(String cloudWatchName) {
            this.cloudWatchName = cloudWatchName;
        }

        public String cloudWatchName() {
            return cloudWatchName;
        }
    }

    private final String metricName;
    private final Unit unit;

    TidemarkMetric(String metricName, Unit unit) {
        this.metricName = metricName;
        this.unit = unit;
    }

    /** The CloudWatch metric name. */
    public String metricName() {
        return metricName;
    }

    public Unit unit() {
        return unit;
    }

    /** The metric called {@code name}, if it is one of ours. */
    public static java.util.Optional<TidemarkMetric> named(String name) {
        for (TidemarkMetric m : values()) {
            if (m.metricName.equals(name)) {
                return java.util.Optional.of(m);
            }
        }
        return java.util.Optional.empty();
    }
}
