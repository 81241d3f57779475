package io.tidemark.localcloud;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.retain.RetentionTrigger;
import io.tidemark.functions.verify.VerifyDispatch;
import io.tidemark.functions.verify.VerifyEvent;
import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Decision;
import io.tidemark.localcloud.iam.Principal;
import io.tidemark.localcloud.iam.StackIdentities;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Judges the calls one function makes to another through local-cloud's in-process stand-ins, as
 * AWS judges the Lambda invoke or SQS send they replace: by the calling function's role. Each
 * caller gets its own view of the stand-in ({@link #retention}, {@link #verify}, {@link #jobs});
 * a denied call fails the way the AWS client would: the retention invoke is logged and skipped
 * (LambdaRetentionTrigger logs a non-202 answer), a verify send throws IllegalStateException (as
 * SqsVerifyDispatch does), a job delivery throws JobDeliveryException (as SqsJobDelivery does).
 * Bound to the cloud's enforcement at start; unbound (no enforcement) nothing is judged.
 */
final class InProcessCallGate {

    private static final Logger LOG = LoggerFactory.getLogger(InProcessCallGate.class);

    private volatile Enforcement enforcement;

    void bind(Enforcement enforcement) {
        this.enforcement = enforcement;
    }

    /** Null when the caller's role may make the call (or nothing is enforced); else AWS's denial message. */
    String denial(String callerStackName, String action, Function<StackIdentities, String> resource) {
        Enforcement e = enforcement;
        if (e == null) {
            return null;
        }
        Principal p = e.identities().function(callerStackName);
        AccessRequest r = AccessRequest.of(action, resource.apply(e.identities()));
        Decision d = e.judge(p, r);
        return d.allowed() ? null : Enforcement.notAuthorized(p, r, d);
    }

    /** The retention invoke as {@code caller} ({@code lambda:InvokeFunction} on the Retention alias). */
    RetentionTrigger retention(RetentionTrigger target, String caller) {
        return (StanzaName stanza, String label) -> {
            String denied = denial(caller, "lambda:InvokeFunction", ids -> ids.functionInvokeArn("Retention"));
            if (denied != null) {
                LOG.warn("retention of stanza {} after backup {}: Lambda answered 403 (AccessDeniedException: {})",
                        stanza, label, denied);
                return;
            }
            target.backupValid(stanza, label);
        };
    }

    /** Verify work sent as {@code caller} ({@code sqs:SendMessage} on the verify queue). */
    VerifyDispatch verify(VerifyDispatch target, String caller) {
        return (VerifyEvent event) -> {
            String denied = denial(caller, "sqs:SendMessage", StackIdentities::verifyQueueArn);
            if (denied != null) {
                throw new IllegalStateException("cannot send to the verify queue: " + denied
                        + " (Service: Sqs, Status Code: 403, AccessDenied)");
            }
            target.dispatch(event);
        };
    }

    /** Jobs delivered as {@code caller} ({@code sqs:SendMessage} on the stanza's job queue). */
    JobDelivery jobs(JobDelivery target, String caller) {
        return (Job job) -> {
            String denied = denial(caller, "sqs:SendMessage", ids -> ids.jobQueueArn(job.stanza().toString()));
            if (denied != null) {
                throw new JobDelivery.JobDeliveryException("cannot send job " + job.id() + " to the job queue of "
                        + job.stanza() + ": " + denied + " (Service: Sqs, Status Code: 403, AccessDenied)", null);
            }
            target.deliver(job);
        };
    }
}
