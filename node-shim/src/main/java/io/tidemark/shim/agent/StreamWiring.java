package io.tidemark.shim.agent;

import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.api.StanzaResolver;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.stream.ChunkStore;
import io.tidemark.shim.stream.StreamCounters;
import io.tidemark.shim.stream.StreamLease;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.stream.WalStreamer;
import java.io.PrintStream;
import java.time.Clock;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Builds the agent's {@link WalStreamer} from its configuration: S3, the catalog's stanza and lease. */
final class StreamWiring {
    private StreamWiring() {
    }

    static WalStreamer streamer(ShimConfig config, Map<String, String> env, PgOptions pg, Supplier<CatalogApi> api,
                                StreamSettings settings, StreamCounters counters, String holder, PrintStream out,
                                PrintStream err) {
        ChunkStore chunks = new ChunkStore(Stores.open(config, CredentialSource.of(config, env)), config.stanza(),
                config.compression(), config.compressLevel());
        StreamLease lease = config.apiUrl().isPresent()
                ? new CatalogStreamLease(api.get(), config.stanza(), holder, settings.slotFor(config.stanza()),
                        settings.leaseTtlSeconds())
                : StreamLease.NONE;
        return new WalStreamer(config.stanza(), settings, pg, chunks, lease, counters, systemId(config, api), out, err,
                Clock.systemUTC());
    }

    /** The stanza's system identifier from the catalog (asked once): the streamed cluster must be that one. */
    private static LongSupplier systemId(ShimConfig config, Supplier<CatalogApi> api) {
        if (config.apiUrl().isEmpty()) {
            return () -> new StanzaCache(config.spoolDir()).read(config.stanza()).map(StanzaDoc::systemIdentifier)
                    .orElse(0L);
        }
        long[] known = {0};
        return () -> {
            if (known[0] == 0) {
                known[0] = new StanzaResolver(new StanzaCache(config.spoolDir()), api.get()).refresh(config.stanza())
                        .orElseThrow(() -> new IllegalStateException("stanza " + config.stanza()
                                + " does not exist in the catalog: run tidemark stanza-create on the primary first"))
                        .systemIdentifier();
            }
            return known[0];
        };
    }
}
