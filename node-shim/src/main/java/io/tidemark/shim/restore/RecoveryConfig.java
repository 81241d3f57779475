package io.tidemark.shim.restore;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.archiveget.WalPlan;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The recovery part of {@code postgresql.auto.conf}: earlier {@code recovery_target*} and
 * {@code restore_command} lines are dropped (PostgreSQL would take the last one, and a stale
 * target from an earlier restore must not survive), every other line is kept as it was, and one
 * block is appended with {@code restore_command} and the plan's settings, each quoted for
 * postgresql.conf.
 */
public final class RecoveryConfig {
    private static final Pattern SETTING = Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_.]*)\\s*(=|\\s|$)");

    private RecoveryConfig() {
    }

    /** Whether an auto.conf line sets a parameter restore owns. */
    static boolean ownedByRestore(String line) {
        Matcher m = SETTING.matcher(line);
        if (!m.find()) {
            return false;
        }
        String key = m.group(1).toLowerCase(Locale.ROOT);
        return key.startsWith("recovery_target") || key.equals("restore_command");
    }

    /**
     * @param existing  the current content (the backup's auto.conf), or empty
     * @param settings  the plan's recovery settings, unquoted
     */
    public static String rewrite(String existing, Map<String, String> settings, String restoreCommand, String comment) {
        List<String> kept = new ArrayList<>();
        for (String line : existing.split("\n", -1)) {
            if (!ownedByRestore(line)) {
                kept.add(line);
            }
        }
        while (!kept.isEmpty() && kept.get(kept.size() - 1).isBlank()) {
            kept.remove(kept.size() - 1);
        }
        StringBuilder sb = new StringBuilder();
        for (String line : kept) {
            sb.append(line).append('\n');
        }
        sb.append("# ").append(comment).append('\n');
        sb.append("restore_command = ").append(RecoveryRequest.quote(restoreCommand)).append('\n');
        new TreeMap<>(settings).forEach((k, v) -> sb.append(k).append(" = ").append(RecoveryRequest.quote(v)).append('\n'));
        return sb.toString();
    }

    /**
     * {@code restore_command}: this shim's archive-get, by absolute paths, with {@code %f %p} and
     * {@code --plan} naming the signed plan restore left in the data directory ({@link #writePlan}).
     * Paths are quoted for the shell PostgreSQL runs it with, and a {@code %} in them doubled.
     */
    public static String restoreCommand(String launcher, Path config, StanzaName stanza, Path planFile) {
        return shellQuote(launcher) + " archive-get --config " + shellQuote(config.toAbsolutePath().normalize().toString())
                + " --stanza " + stanza + " --plan " + shellQuote(planFile.toAbsolutePath().normalize().toString())
                + " %f %p";
    }

    /**
     * Leaves the verified signed plan (the envelope as the planner signed it) in the data
     * directory, mode 600, for archive-get: it belongs to whoever restored, like every other file
     * restore writes (a restore run as root is chowned to the PostgreSQL user with the rest).
     * Returns its path.
     */
    public static Path writePlan(Path pgdata, JsonNode envelope) throws IOException {
        Path f = WalPlan.fileIn(pgdata);
        AtomicFile.write(f, envelope.toString().getBytes(StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    static String shellQuote(String s) {
        String q = s.matches("[A-Za-z0-9_./:=@+,%-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
        return q.replace("%", "%%");
    }

    /** The launcher restore_command should run: {@code -Dtidemark.launcher}, {@code TIDEMARK_LAUNCHER}, else {@code tidemark} on PATH. */
    public static String launcher(Map<String, String> env) {
        String p = System.getProperty("tidemark.launcher");
        if (p == null || p.isBlank()) {
            p = env.get("TIDEMARK_LAUNCHER");
        }
        return p == null || p.isBlank() ? "tidemark" : p;
    }
}
