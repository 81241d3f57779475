/**
 * Test support: real PostgreSQL clusters in temp dirs ({@link io.tidemark.testkit.PgCluster}),
 * the server binaries that run them ({@link io.tidemark.testkit.PgBinaries}), and
 * {@code pg_waldump} as an oracle for WAL content ({@link io.tidemark.testkit.PgWalDump}).
 *
 * <p>Tests that need a server carry {@link io.tidemark.testkit.PgTest} (tag {@code pg}).
 */
package io.tidemark.testkit;
