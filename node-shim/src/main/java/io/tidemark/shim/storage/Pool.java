package io.tidemark.shim.storage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Reusable working objects (block buffers, hashers, codec contexts) handed to one user at a time.
 * A block copy used to allocate a fresh 1 MB array per block per step (read, decompress, read
 * back): at a 256 MB heap each is a G1 humongous object, and a 1 GB file made about three thousand
 * of them. Taking them from here allocates one set per thread instead.
 *
 * <p>{@link #take} hands out an idle object or makes a new one (never blocks: how many are in use
 * at once is bounded by the callers' own threads and windows); {@link #give} takes it back, keeping
 * at most {@code keep} idle. An object is never in two hands: giving back one that is not out (twice,
 * or one this pool never handed out) throws, so such a bug fails loudly instead of letting two
 * blocks share one buffer. {@link #close} closes the idle objects that are {@link AutoCloseable}
 * (native zstd contexts); one still out is closed when it is given back (never under its user).
 */
public final class Pool<T> implements AutoCloseable {
    private final Supplier<T> make;
    private final int keep;
    private final ArrayDeque<T> idle = new ArrayDeque<>();
    private final Set<T> out = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean closed;

    public Pool(Supplier<T> make, int keep) {
        if (keep < 0) {
            throw new IllegalArgumentException("keep must be >= 0: " + keep);
        }
        this.make = make;
        this.keep = keep;
    }

    /** An object no one else holds until it is given back. */
    public T take() {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("pool is closed");
            }
            T t = idle.poll();
            if (t != null) {
                out.add(t);
                return t;
            }
        }
        T t = make.get(); // outside the lock: making one may allocate megabytes
        synchronized (this) {
            if (closed) {
                closeQuietly(t);
                throw new IllegalStateException("pool is closed");
            }
            out.add(t);
        }
        return t;
    }

    /** Gives back what {@link #take} handed out; the caller must not touch it afterwards. */
    public void give(T t) {
        boolean drop;
        synchronized (this) {
            if (!out.remove(t)) {
                throw new IllegalStateException("given back an object that is not out of this pool (given twice?)");
            }
            drop = closed || idle.size() >= keep;
            if (!drop) {
                idle.push(t);
            }
        }
        if (drop) {
            closeQuietly(t);
        }
    }

    /** Objects held: idle ones plus those out. */
    public synchronized int size() {
        return idle.size() + out.size();
    }

    @Override
    public void close() {
        List<T> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(idle);
            idle.clear();
        }
        all.forEach(Pool::closeQuietly);
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // a scratch object: nothing to report
            }
        }
    }
}
