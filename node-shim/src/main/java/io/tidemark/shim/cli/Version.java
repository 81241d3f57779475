package io.tidemark.shim.cli;

import picocli.CommandLine;

/** {@code --version}: the jar's Implementation-Version (from the build), or "development build" from class files. */
public final class Version implements CommandLine.IVersionProvider {
    public static String line() {
        String v = Version.class.getPackage().getImplementationVersion();
        return "tidemark " + (v == null ? "(development build)" : v);
    }

    @Override
    public String[] getVersion() {
        return new String[] {line()};
    }
}
