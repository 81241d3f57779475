package io.tidemark.localcloud;

import java.net.BindException;

/** Turns a failed bind into the one line an operator needs. */
final class Ports {
    private Ports() {
    }

    static boolean isBindFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException) {
                return true;
            }
            String m = c.getMessage();
            if (m != null && (m.contains("Address already in use") || m.contains("Failed to bind"))) {
                return true;
            }
        }
        return false;
    }

    static LocalCloudException inUse(String what, String host, int port, Throwable cause) {
        return new LocalCloudException(what + " port " + port + " on " + host
                + " is already in use (choose another with --" + what.toLowerCase(java.util.Locale.ROOT)
                + "-port, or 0 for any free port)", cause);
    }
}
