package io.tidemark.functions.runtime;

import java.util.ArrayList;
import java.util.List;
import org.crac.CheckpointException;
import org.crac.Context;
import org.crac.Resource;
import org.crac.RestoreException;

/**
 * A CRaC context for tests: no JVM here can take a real checkpoint, so tests register the
 * hooks here and call them the way the JVM would (checkpoint in reverse order of registration,
 * restore in order; every resource is called, failures are collected).
 */
public final class TestCracContext extends Context<Resource> {
    private final List<Resource> resources = new ArrayList<>();

    @Override
    public synchronized void register(Resource resource) {
        resources.add(resource);
    }

    @Override
    public synchronized void beforeCheckpoint(Context<? extends Resource> context) throws CheckpointException {
        CheckpointException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).beforeCheckpoint(this);
            } catch (Exception e) {
                if (failure == null) {
                    failure = new CheckpointException("a resource refused the checkpoint");
                }
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public synchronized void afterRestore(Context<? extends Resource> context) throws RestoreException {
        RestoreException failure = null;
        for (Resource r : resources) {
            try {
                r.afterRestore(this);
            } catch (Exception e) {
                if (failure == null) {
                    failure = new RestoreException("a resource failed after restore");
                }
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** What the JVM does around a snapshot: checkpoint, then (in another environment) restore. */
    public void checkpoint() throws CheckpointException {
        beforeCheckpoint(null);
    }

    public void restore() throws RestoreException {
        afterRestore(null);
    }
}
