package io.tidemark.infra;

import io.tidemark.infra.TidemarkConfig.BackupSchedule;
import io.tidemark.infra.TidemarkConfig.StanzaConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.scheduler.Schedule;
import software.amazon.awscdk.services.scheduler.ScheduleExpression;
import software.amazon.awscdk.services.scheduler.ScheduleTargetInput;
import software.amazon.awscdk.services.scheduler.targets.LambdaInvoke;
import software.amazon.awscdk.services.sqs.Queue;

/**
 * The EventBridge Scheduler schedules, per stanza: its backups (to the scheduler), verify and
 * restore drills (to the scheduler; each when configured), the stanza metrics every 5 minutes, and the daily retention, each to the function's
 * alias with failures parked in the asynchronous-failure queue.
 */
final class StackSchedules {
    private StackSchedules() {
    }

    static void add(Stack stack, TidemarkConfig config, StackFunctions fns,
                    Map<String, TidemarkStack.TidemarkFunction> functions, Queue asyncFailures) {
        for (StanzaConfig s : config.stanzas()) {
            for (int i = 0; i < s.backups().size(); i++) {
                BackupSchedule b = s.backups().get(i);
                Map<String, Object> input = b.toInput(s.name());
                Schedule.Builder.create(stack, "BackupSchedule-" + s.name() + "-" + i)
                        .description("Tidemark: backup of stanza " + s.name() + " (" + b.type()
                                .map(t -> t + " as scheduled").orElse("type by policy, full every "
                                        + b.fullIntervalDays() + " days") + ")")
                        .schedule(ScheduleExpression.expression(b.schedule(),
                                software.amazon.awscdk.TimeZone.of(s.timezone())))
                        .target(scheduleTarget(asyncFailures, fns.scheduler(), input))
                        .build();
            }
            Map<String, Object> input = new LinkedHashMap<>();
            input.put("stanza", s.name());
            input.put("retention", s.retention().toInput());
            config.verifySchedule().ifPresent(expression -> Schedule.Builder.create(stack, "VerifySchedule-" + s.name())
                    .description("Tidemark: verify every archived object of stanza " + s.name())
                    .schedule(ScheduleExpression.expression(expression,
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(asyncFailures, fns.verify(), Map.of("stanza", s.name())))
                    .build());
            // Restore drills (off unless configured): a drill job on the stanza's queue, as a backup
            // job; the agents that drill.run allows claim it (docs/drills.md#scheduled-drills).
            config.drillSchedule().ifPresent(expression -> Schedule.Builder.create(stack, "DrillSchedule-" + s.name())
                    .description("Tidemark: restore drill of stanza " + s.name())
                    .schedule(ScheduleExpression.expression(expression,
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(asyncFailures, fns.scheduler(), drillInput(s.name())))
                    .build());
            // Every 5 minutes: three reports within the lag alarm's default period (15 min
            // threshold), and 8,640 invocations a month per stanza.
            Schedule.Builder.create(stack, "StanzaMetricsSchedule-" + s.name())
                    .description("Tidemark: archive lag and backup age of stanza " + s.name())
                    .schedule(ScheduleExpression.rate(Duration.minutes(5)))
                    .target(scheduleTarget(asyncFailures, functions.get("StanzaMetrics"), Map.of("stanza", s.name())))
                    .build();
            Schedule.Builder.create(stack, "RetentionSchedule-" + s.name())
                    .description("Tidemark: daily retention of stanza " + s.name())
                    .schedule(ScheduleExpression.expression("cron(30 3 * * ? *)",
                            software.amazon.awscdk.TimeZone.of(s.timezone())))
                    .target(scheduleTarget(asyncFailures, fns.retention(), input))
                    .build();
        }
    }

    /** The drill schedule's input to the scheduler (io.tidemark.functions.schedule.ScheduleInput), in a fixed order. */
    private static Map<String, Object> drillInput(String stanza) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("stanza", stanza);
        input.put("type", "drill");
        return input;
    }

    private static LambdaInvoke scheduleTarget(Queue asyncFailures, TidemarkStack.TidemarkFunction target, Map<String, Object> input) {
        return LambdaInvoke.Builder.create(target.alias())
                .input(ScheduleTargetInput.fromObject(input))
                .retryAttempts(3)
                .maxEventAge(Duration.hours(1))
                .deadLetterQueue(asyncFailures)
                .build();
    }
}
