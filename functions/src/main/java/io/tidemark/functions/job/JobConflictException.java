package io.tidemark.functions.job;

import io.tidemark.functions.catalog.CatalogException;

/** A claim, pass or report that the job's current state does not allow; carries that job (the 409 body). */
public final class JobConflictException extends CatalogException {
    private static final long serialVersionUID = 1L;

    private final transient Job job;

    public JobConflictException(Job job, String message) {
        super(Kind.CONFLICT, message);
        this.job = job;
    }

    public Job job() {
        return job;
    }
}
