package io.tidemark.infra;

import static io.tidemark.infra.TidemarkStack.ARCHIVE_LAG_METRIC;
import static io.tidemark.infra.TidemarkStack.BACKUP_AGE_METRIC;
import static io.tidemark.infra.TidemarkStack.HISTORY_CONFLICTS_METRIC;
import static io.tidemark.infra.TidemarkStack.METRIC_DIMENSION;
import static io.tidemark.infra.TidemarkStack.METRIC_NAMESPACE;
import static io.tidemark.infra.TidemarkStack.VERIFY_CLEAN_AGE_METRIC;
import static io.tidemark.infra.TidemarkStack.VERIFY_PROBLEMS_METRIC;

import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.infra.TidemarkConfig.StanzaConfig;
import io.tidemark.infra.TidemarkStack.TidemarkFunction;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.sqs.Queue;

/**
 * The stack's alarms, all to the alarm topic: per stanza archive lag, backup age, refused
 * manifests, history conflicts and (with a verify schedule) verify problems and age; per function
 * errors; per dead-letter queue its depth. Created in the stack's own scope (not a child
 * construct), so the logical ids are those the stack always had.
 */
final class StackAlarms {

    private StackAlarms() {
    }

    /** @param dlqs dead-letter queues by the name their alarm carries */
    static void add(Stack stack, TidemarkConfig config, Topic alarmTopic, Map<String, TidemarkFunction> functions,
                    Map<String, Queue> dlqs) {
        SnsAction toTopic = new SnsAction(alarmTopic);
        // One lag period spans the threshold (whole minutes, as CloudWatch periods are): a period
        // without any data point means no segment arrived (and no scheduled publisher ran) for
        // that long, which is lag above the threshold too.
        int lagPeriodSeconds = (config.archiveLagAlarmSeconds() + 59) / 60 * 60;
        for (StanzaConfig s : config.stanzas()) {
            Alarm lag = Alarm.Builder.create(stack, "ArchiveLagAlarm-" + s.name())
                    .alarmDescription("Tidemark: WAL of stanza " + s.name() + " is archived more than "
                            + config.archiveLagAlarmSeconds() + " s behind, or nothing reports its lag")
                    .metric(customMetric(ARCHIVE_LAG_METRIC, s.name(), Duration.seconds(lagPeriodSeconds)))
                    .threshold(config.archiveLagAlarmSeconds())
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                    .evaluationPeriods(1)
                    // Silence is a stopped archiver (the indexer publishes per segment) or a stopped
                    // publisher; a fully idle cluster looks the same (docs/deploy.md, Metrics and alarms).
                    .treatMissingData(TreatMissingData.BREACHING)
                    .build();
            lag.addAlarmAction(toTopic);
            Alarm age = Alarm.Builder.create(stack, "BackupAgeAlarm-" + s.name())
                    .alarmDescription("Tidemark: the newest valid backup of stanza " + s.name()
                            + " is older than " + s.maxBackupAgeHours() + " h, or nothing reports its age")
                    .metric(customMetric(BACKUP_AGE_METRIC, s.name(), Duration.hours(1)))
                    .threshold(s.maxBackupAgeHours() * 3600.0)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                    .evaluationPeriods(1)
                    // Silence is a failure here: no valid backup, or nothing publishing the metric.
                    .treatMissingData(TreatMissingData.BREACHING)
                    .build();
            age.addAlarmAction(toTopic);
            // Any refused manifest: a node uploaded a backup whose times or files cannot be true.
            Alarm refused = Alarm.Builder.create(stack, "ManifestsRefusedAlarm-" + s.name())
                    .alarmDescription("Tidemark: the validator refused a backup manifest of stanza " + s.name()
                            + " (times ahead of the cloud's clock, or a full without the files PostgreSQL needs;"
                            + " tidemark info lists the reasons)")
                    .metric(customMetric(TidemarkMetric.MANIFESTS_REFUSED.metricName(), s.name(), Duration.minutes(5)))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            refused.addAlarmAction(toTopic);
        }
        for (StanzaConfig s : config.stanzas()) {
            // Any conflict is an alarm: something tried to replace history (a node reported a refused
            // re-push, or the cloud saw a second, different object); no data is no conflict.
            Alarm conflicts = Alarm.Builder.create(stack, "HistoryConflictsAlarm-" + s.name())
                    .alarmDescription("Tidemark: an object or manifest of stanza " + s.name() + " was about to be"
                            + " replaced by different content (the catalog function's, indexer's or validator's log"
                            + " names the key); the original was kept")
                    .metric(customMetric(HISTORY_CONFLICTS_METRIC, s.name(), Duration.minutes(5)))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            conflicts.addAlarmAction(toTopic);
            // Streamed WAL chunks and the complete segment that supersedes them disagree (issue 17):
            // one of the two copies is not what PostgreSQL wrote. Any is an alarm; no data is none.
            Alarm mismatch = Alarm.Builder.create(stack, "StreamMismatchAlarm-" + s.name())
                    .alarmDescription("Tidemark: a streamed WAL chunk of stanza " + s.name() + " holds other bytes than"
                            + " the archived segment that supersedes it (the indexer's log names the chunk and the"
                            + " segment); the segment is what restores use")
                    .metric(customMetric(io.tidemark.events.metrics.TidemarkMetric.STREAM_MISMATCH.metricName(), s.name(),
                            Duration.minutes(5)))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            mismatch.addAlarmAction(toTopic);
            // The window stops at missing WAL with streamed or archived WAL after it (issue 17: a slot
            // dropped before its WAL was archived, a failover whose old timeline ends before the switch
            // point). The minimum over the period: a chunk indexed before an earlier one (events out of
            // order) shows a break for a moment; a real one stays in every chunk until the WAL arrives.
            Alarm streamGaps = Alarm.Builder.create(stack, "StreamGapsAlarm-" + s.name())
                    .alarmDescription("Tidemark: WAL of stanza " + s.name() + " is missing past the recovery window's"
                            + " end while streamed WAL continues after it (tidemark info shows the WAL GAP; the"
                            + " indexer's log names it)")
                    .metric(Metric.Builder.create()
                            .namespace(METRIC_NAMESPACE)
                            .metricName(TidemarkMetric.STREAM_GAPS.metricName())
                            .dimensionsMap(Map.of(METRIC_DIMENSION, s.name()))
                            .statistic("Minimum")
                            .period(Duration.minutes(5))
                            .build())
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            streamGaps.addAlarmAction(toTopic);
            // A restore drill failed (tidemark drill records each one; docs/drills.md). No drill is no
            // failure: drills are the operator's choice, and a failed one stays in alarm until the
            // next one passes (it publishes 0).
            Alarm drill = Alarm.Builder.create(stack, "DrillFailedAlarm-" + s.name())
                    .alarmDescription("Tidemark: a restore drill of stanza " + s.name() + " failed (GET /stanzas/"
                            + s.name() + "/drills or tidemark info names the failed check)")
                    .metric(customMetric(TidemarkMetric.DRILL_FAILED.metricName(), s.name(), Duration.hours(1)))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.IGNORE)
                    .build();
            drill.addAlarmAction(toTopic);
        }
        if (config.drillSchedule().isPresent()) {
            for (StanzaConfig s : config.stanzas()) {
                // DrillRtoSeconds is published only by a drill that passed: a day without one is a
                // missing data point, and every day of the interval missing one is the alarm (a
                // failed drill, a drill no agent was allowed to claim, no agent at all).
                Alarm none = Alarm.Builder.create(stack, "DrillMissingAlarm-" + s.name())
                        .alarmDescription("Tidemark: no restore drill of stanza " + s.name() + " passed in the last "
                                + config.drillAlarmDays() + " days (tidemark info shows the last drill and its jobs)")
                        .metric(Metric.Builder.create()
                                .namespace(METRIC_NAMESPACE)
                                .metricName(TidemarkMetric.DRILL_RTO.metricName())
                                .dimensionsMap(Map.of(METRIC_DIMENSION, s.name()))
                                .statistic("SampleCount")
                                .period(Duration.days(1))
                                .build())
                        .threshold(1)
                        .comparisonOperator(ComparisonOperator.LESS_THAN_THRESHOLD)
                        .evaluationPeriods(config.drillAlarmDays())
                        .datapointsToAlarm(config.drillAlarmDays())
                        .treatMissingData(TreatMissingData.BREACHING)
                        .build();
                none.addAlarmAction(toTopic);
            }
        }
        if (config.verifySchedule().isPresent()) {
            for (StanzaConfig s : config.stanzas()) {
                // Stays in alarm until a clean run reports 0 (no data between the daily runs keeps the state).
                Alarm problems = Alarm.Builder.create(stack, "VerifyProblemsAlarm-" + s.name())
                        .alarmDescription("Tidemark: verify found missing or damaged objects, WAL gaps or broken"
                                + " backup chains in stanza " + s.name() + " (tidemark verify lists them)")
                        .metric(customMetric(VERIFY_PROBLEMS_METRIC, s.name(), Duration.hours(1)))
                        .threshold(1)
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                        .evaluationPeriods(1)
                        .treatMissingData(TreatMissingData.IGNORE)
                        .build();
                problems.addAlarmAction(toTopic);
                // No clean full run for too long, or no run at all (no data: breaching).
                Alarm clean = Alarm.Builder.create(stack, "VerifyAgeAlarm-" + s.name())
                        .alarmDescription("Tidemark: stanza " + s.name() + " has not been verified clean for more than "
                                + config.verifyAlarmAgeHours() + " hours")
                        .metric(customMetric(VERIFY_CLEAN_AGE_METRIC, s.name(), Duration.days(1)))
                        .threshold(config.verifyAlarmAgeHours() * 3600.0)
                        .comparisonOperator(ComparisonOperator.GREATER_THAN_THRESHOLD)
                        .evaluationPeriods(2)
                        .treatMissingData(TreatMissingData.BREACHING)
                        .build();
                clean.addAlarmAction(toTopic);
            }
        }
        for (Map.Entry<String, TidemarkFunction> e : functions.entrySet()) {
            Alarm errors = Alarm.Builder.create(stack, "ErrorsAlarm-" + e.getKey())
                    .alarmDescription("Tidemark: function " + e.getKey() + " reported errors")
                    .metric(e.getValue().function().metricErrors(
                            software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                                    .period(Duration.minutes(5)).statistic("Sum").build()))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            errors.addAlarmAction(toTopic);
        }
        dlqs.forEach((name, q) -> {
            Alarm depth = Alarm.Builder.create(stack, "DlqDepthAlarm-" + name)
                    .alarmDescription("Tidemark: messages waiting in dead-letter queue " + name)
                    .metric(q.metricApproximateNumberOfMessagesVisible(
                            software.amazon.awscdk.services.cloudwatch.MetricOptions.builder()
                                    .period(Duration.minutes(5)).statistic("Maximum").build()))
                    .threshold(1)
                    .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
                    .evaluationPeriods(1)
                    .treatMissingData(TreatMissingData.NOT_BREACHING)
                    .build();
            depth.addAlarmAction(toTopic);
        });
    }

    private static Metric customMetric(String name, String stanza, Duration period) {
        return Metric.Builder.create()
                .namespace(METRIC_NAMESPACE)
                .metricName(name)
                .dimensionsMap(Map.of(METRIC_DIMENSION, stanza))
                .statistic("Maximum")
                .period(period)
                .build();
    }
}
