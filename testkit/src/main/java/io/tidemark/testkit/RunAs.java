package io.tidemark.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/**
 * Which OS user runs the PostgreSQL server tools. initdb and postgres refuse to run as root, so a
 * root JVM (containers, CI runners) runs them as {@code postgres} (override: env
 * {@code TIDEMARK_PG_USER}) through {@code runuser}; any other JVM runs them as itself.
 */
public final class RunAs {

    private static final String USER_ENV = "TIDEMARK_PG_USER";

    private final String user;           // null: run as the JVM's own user
    private final List<String> prefix;

    private RunAs(String user, List<String> prefix) {
        this.user = user;
        this.prefix = List.copyOf(prefix);
    }

    /** The JVM's own user, no wrapper. */
    public static RunAs currentUser() {
        return new RunAs(null, List.of());
    }

    /** Decides from the JVM's uid: root switches to the server user, anyone else stays. */
    public static RunAs detect() {
        if (!jvmIsRoot()) {
            return currentUser();
        }
        String target = System.getenv().getOrDefault(USER_ENV, "postgres");
        return switchingTo(target);
    }

    /** Runs commands as {@code user} (the JVM must be root). */
    public static RunAs switchingTo(String user) {
        Path runuser = firstExisting("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser");
        if (runuser != null) {
            return new RunAs(user, List.of(runuser.toString(), "-u", user, "--"));
        }
        Path setpriv = firstExisting("/usr/bin/setpriv", "/bin/setpriv");
        if (setpriv != null) {
            return new RunAs(user, List.of(setpriv.toString(), "--reuid=" + user, "--regid=" + user,
                    "--init-groups", "--"));
        }
        throw new IllegalStateException("the JVM runs as root and PostgreSQL refuses root, but neither runuser"
                + " nor setpriv (util-linux) is installed to switch to user '" + user + "'");
    }

    public static boolean jvmIsRoot() {
        try {
            // /proc/self belongs to the uid of the process that looks at it.
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** True when commands run as a different user than the JVM. */
    public boolean switchesUser() {
        return user != null;
    }

    /** The user the tools run as. */
    public String userName() {
        return user != null ? user : System.getProperty("user.name");
    }

    /** The command line that runs {@code command} as this user. */
    public List<String> wrap(List<String> command) {
        if (prefix.isEmpty()) {
            return List.copyOf(command);
        }
        List<String> all = new ArrayList<>(prefix);
        all.addAll(command);
        return all;
    }

    /** Hands a file or dir the JVM created over to the run-as user (no-op without a user switch). */
    public void giveOwnership(Path path) {
        if (user == null) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal owner = lookup.lookupPrincipalByName(user);
            PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
            view.setOwner(owner);
            try {
                GroupPrincipal group = lookup.lookupPrincipalByGroupName(user);
                view.setGroup(group);
            } catch (IOException noSuchGroup) {
                // a user without a same-named group keeps the JVM's group; the mode is 0700 anyway
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give " + path + " to user '" + user
                    + "' (does the user exist? create it or set " + USER_ENV + ")", e);
        }
    }

    private static Path firstExisting(String... candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return user == null ? "RunAs[current user]" : "RunAs[" + user + " via " + prefix.get(0) + "]";
    }
}
