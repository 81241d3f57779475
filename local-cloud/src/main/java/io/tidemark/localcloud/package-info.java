/** Placeholder until this module gets its first class. */
package io.tidemark.localcloud;
