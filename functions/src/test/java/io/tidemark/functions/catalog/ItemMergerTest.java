package io.tidemark.functions.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link ItemMerger}'s first attempt from an item the caller already holds: a read saved, never a stale write. */
class ItemMergerTest {

    private final InMemoryCatalogStore store = new InMemoryCatalogStore();
    private final AtomicInteger reads = new AtomicInteger();
    private final CatalogStore counted = new CatalogStore() {
        @Override
        public Optional<Item> get(String pk, String sk) {
            reads.incrementAndGet();
            return store.get(pk, sk);
        }

        @Override
        public boolean put(Item item, String expectedRevision) {
            return store.put(item, expectedRevision);
        }

        @Override
        public void delete(String pk, String sk) {
            store.delete(pk, sk);
        }

        @Override
        public List<Item> query(String pk, String skPrefix) {
            return store.query(pk, skPrefix);
        }

        @Override
        public List<Item> queryBetween(String pk, String fromSk, String toSk) {
            return store.queryBetween(pk, fromSk, toSk);
        }
    };
    private final ItemMerger merger = new ItemMerger(counted);

    private static Item counter(long n) {
        return Item.of("P", "S", Map.of("n", n));
    }

    /** Adds one to the stored count. */
    private static Item increment(Optional<Item> cur) {
        return counter(cur.flatMap(i -> i.number("n")).orElse(0L) + 1);
    }

    @Test
    void aCurrentKnownItemIsWrittenOnWithoutARead() {
        Item one = merger.merge("P", "S", ItemMergerTest::increment);
        reads.set(0);
        Item two = merger.merge("P", "S", Optional.of(one), ItemMergerTest::increment);
        assertEquals(2L, two.number("n").orElseThrow());
        assertEquals(0, reads.get(), "the known item was current: no read");
        assertEquals(2L, store.get("P", "S").orElseThrow().number("n").orElseThrow());
    }

    @Test
    void aStaleKnownItemLosesItsConditionalWriteAndTheMergeReadsAgain() {
        Item one = merger.merge("P", "S", ItemMergerTest::increment);
        merger.merge("P", "S", ItemMergerTest::increment); // another writer: the stored item is now 2
        reads.set(0);
        Item next = merger.merge("P", "S", Optional.of(one), ItemMergerTest::increment);
        assertEquals(3L, next.number("n").orElseThrow(), "computed on the stored item, not on the stale one");
        assertEquals(3L, store.get("P", "S").orElseThrow().number("n").orElseThrow());
        assertEquals(1, reads.get());
    }

    @Test
    void aMergeThatChangesNothingOnTheKnownItemIsDecidedOnARead() {
        Item one = merger.merge("P", "S", ItemMergerTest::increment);
        merger.merge("P", "S", ItemMergerTest::increment); // stored: 2
        reads.set(0);
        // "at least 1": nothing to change on the (stale) known item, but the stored one is what is returned
        Item result = merger.merge("P", "S", Optional.of(one),
                cur -> cur.filter(i -> i.number("n").orElse(0L) >= 1).orElseGet(() -> counter(1)));
        assertEquals(2L, result.number("n").orElseThrow());
        assertEquals(1, reads.get(), "one read for the decision");
    }

    @Test
    void anAbsentKnownItemIsCreatedOnlyIfStillAbsent() {
        merger.merge("P", "S", ItemMergerTest::increment);
        Item next = merger.merge("P", "S", Optional.empty(), ItemMergerTest::increment);
        assertEquals(2L, next.number("n").orElseThrow(), "someone created it meanwhile: the merge joins theirs");
    }
}
