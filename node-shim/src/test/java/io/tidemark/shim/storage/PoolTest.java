package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class PoolTest {
    /** A buffer that knows whether it is closed. */
    static final class Buf implements AutoCloseable {
        final byte[] bytes = new byte[64];
        volatile boolean closed;

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void neverHandsOneObjectToTwoUsersAtOnce() throws Exception {
        AtomicInteger made = new AtomicInteger();
        Pool<Buf> pool = new Pool<>(() -> {
            made.incrementAndGet();
            return new Buf();
        }, 3);
        Set<Buf> inUse = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
        ExecutorService threads = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int id = t;
                all.add(threads.submit(() -> {
                    for (int i = 0; i < 2000; i++) {
                        Buf b = pool.take();
                        assertTrue(inUse.add(b), "an object handed out while another user holds it");
                        b.bytes[0] = (byte) id; // a user writes ...
                        Thread.yield();
                        assertEquals((byte) id, b.bytes[0], "... and finds its own bytes");
                        inUse.remove(b);
                        pool.give(b);
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }
        assertTrue(made.get() <= 6 + 6 * 2000, "made " + made.get());
        assertTrue(pool.size() <= 3, "keeps at most 3 idle: " + pool.size());
    }

    @Test
    void reusesWhatWasGivenBackAndRefusesAGiveOfWhatIsNotOut() {
        Pool<Buf> pool = new Pool<>(Buf::new, 1);
        Buf a = pool.take();
        pool.give(a);
        assertSame(a, pool.take(), "the idle one comes back");
        Buf b = pool.take();
        assertNotSame(a, b);
        pool.give(a);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.give(a));
        assertTrue(twice.getMessage().contains("not out of this pool"), twice.getMessage());
        assertThrows(IllegalStateException.class, () -> pool.give(new Buf()));
        pool.give(b); // more than keep (1) idle: dropped and closed
        assertTrue(b.closed);
        assertTrue(!a.closed);
    }

    @Test
    void closeClosesTheIdleAndEachOutOneWhenItComesBack() {
        Pool<Buf> pool = new Pool<>(Buf::new, 4);
        Buf idle = pool.take();
        Buf out = pool.take();
        pool.give(idle);
        pool.close();
        assertTrue(idle.closed);
        assertTrue(!out.closed, "never closed under its user");
        pool.give(out);
        assertTrue(out.closed);
        assertThrows(IllegalStateException.class, pool::take);
    }
}
