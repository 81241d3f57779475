package io.tidemark.shim.agent;

/**
 * One long-running part of the agent (the job loop, the metrics server; the asynchronous archive
 * worker is meant to be one more). Each runs on its own thread until {@link #stop()}.
 */
public interface AgentService {

    /** For logs and the thread name. */
    String name();

    /** Runs until {@link #stop()} is called (returns then), or fails. */
    void run() throws Exception;

    /** Asks {@link #run()} to return soon; must not block long. */
    void stop();
}
