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
     * A second, different object or manifest for something already accepted: one per conflict,
     * whether the cloud saw it or a node refused to replace an object and reported it
     * ({@code POST /stanzas/{stanza}/conflicts}). Any value is an alarm.
     */
    HISTORY_CONFLICTS("HistoryConflicts", Unit.COUNT),
    /**
     * Backup manifests the validator refused because they cannot be true: times that disagree
     * with each other or with the S3 event time, a full without the files PostgreSQL needs, a
     * backup_label that does not match the manifest. One data point of 1 per refused manifest.
     */
    MANIFESTS_REFUSED("ManifestsRefused", Unit.COUNT),
    /** Backups a retention run removed (0 when it removed none); one data point per run. */
    BACKUPS_EXPIRED("BackupsExpired", Unit.COUNT),
    /**
     * Full backups a retention run would have removed but held back because the run reached its
     * cap; an operator's confirmed run removes them. One data point per run (0: nothing held).
     */
    BACKUPS_HELD_BACK("BackupsHeldBack", Unit.COUNT),
    /**
     * WAL segments indexed with commit times later than the segment's S3 event time plus the
     * allowed skew; those times are not used for the window or time targets. 1 per flagged segment.
     */
    FUTURE_WAL_TIMES("FutureWalTimes", Unit.COUNT),
    /**
     * A complete WAL segment that disagrees with the streamed chunks indexed for it (issue 17):
     * the two paths of the same WAL do not hold the same bytes. 1 per chunk that disagrees; any 1
     * is an alarm (one of the two copies is not what PostgreSQL wrote).
     */
    STREAM_MISMATCH("StreamMismatch", Unit.COUNT),
    /**
     * Seconds from the last streamed commit's time to when the indexer moved the window's right
     * edge with the chunk holding it: how far the latest restorable point trails the primary.
     */
    STREAM_LAG("StreamLagSeconds", Unit.SECONDS),
    /**
     * After each streamed chunk the indexer accepted: how many breaks the recovery window has past
     * its right edge, WAL missing between the window's end and streamed or archived WAL that exists
     * after it (issue 17: a replication slot dropped before its WAL was archived, a failover whose
     * old timeline's WAL ends before the switch point). The window stops at the break; the alarm
     * fires when every chunk of its period still saw one.
     */
    STREAM_GAPS("StreamGaps", Unit.COUNT),
    /**
     * A restore drill a node recorded ({@code POST /stanzas/{stanza}/drills}): 1 when it failed, 0
     * when every check passed; one data point per drill. Any 1 is an alarm.
     */
    DRILL_FAILED("DrillFailed", Unit.COUNT),
    /** The measured RTO of a drill that passed: seconds from its start to promotion; one data point per drill. */
    DRILL_RTO("DrillRtoSeconds", Unit.SECONDS);

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
