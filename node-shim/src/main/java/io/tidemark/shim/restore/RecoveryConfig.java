package io.tidemark.shim.restore;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.RecoveryRequest;
import java.nio.file.Path;
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
     * {@code restore_command}: this shim's archive-get, by absolute paths, with {@code %f %p}.
     * Paths are quoted for the shell PostgreSQL runs it with, and a {@code %} in them doubled.
     */
    public static String restoreCommand(String launcher, Path config, StanzaName stanza) {
        return shellQuote(launcher) + " archive-get --config " + shellQuote(config.toAbsolutePath().normalize().toString())
                + " --stanza " + stanza + " %f %p";
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
