package io.tidemark.shim.agent;

import java.util.concurrent.atomic.AtomicLong;

/** What this agent did since it started: the agent's own part of the metrics. */
final class AgentCounters {
    final AtomicLong received = new AtomicLong();
    final AtomicLong done = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong passed = new AtomicLong();
    final AtomicLong receiveErrors = new AtomicLong();
    /** 1 primary, 0 replica, -1 not known (PostgreSQL not reachable, or not asked yet). */
    volatile int primary = -1;
    volatile long lastDurationMs = -1;
}
