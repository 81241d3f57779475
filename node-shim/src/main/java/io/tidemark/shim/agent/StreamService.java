package io.tidemark.shim.agent;

import io.tidemark.shim.stream.WalStreamer;

/** The WAL stream ({@code stream.enabled=true}) as one of the agent's services. */
final class StreamService implements AgentService {
    private final WalStreamer streamer;

    StreamService(WalStreamer streamer) {
        this.streamer = streamer;
    }

    @Override
    public String name() {
        return "wal-stream";
    }

    @Override
    public void run() throws InterruptedException {
        streamer.run();
    }

    @Override
    public void stop() {
        streamer.stop();
    }
}
