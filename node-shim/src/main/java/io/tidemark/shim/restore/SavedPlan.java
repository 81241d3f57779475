package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.restore.RestoreCommand.PlanResponse;
import io.tidemark.shim.spool.SpoolDirs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

/** Restore, step 3 (for a plan the planner answered): the answer kept privately, to run again with --plan-file. */
final class SavedPlan {
    private SavedPlan() {
    }

    /**
     * Saves the planner's answer (it holds presigned URLs: read access to the backup until they
     * expire) as {@code <spool.dir>/<stanza>/restore-plans/<planId>.json}, mode 600, in
     * directories that only this user can enter ({@link SpoolDirs#privateProblem}). A spool another
     * user made (as archive-push run by postgres makes its stanza's, when root restores), or one
     * reached through a symbolic link, is not used: the plan goes to this user's own default spool
     * ({@code $TMPDIR/tidemark-<user>}) instead, with a note; when that is not private either, the
     * restore is refused before anything is written.
     */
    static Path save(ShimConfig config, RestorePlan plan, PlanResponse response, PrintStream out) {
        Optional<String> problem = dirProblem(config.spoolDir(), config);
        Path spool = config.spoolDir();
        if (problem.isPresent()) {
            Path own = ShimConfig.defaultSpoolDir();
            Optional<String> again = own.equals(spool) ? problem : dirProblem(own, config);
            if (again.isPresent()) {
                throw new RestoreRefused("cannot keep the restore plan privately: " + again.get() + " (or set spool.dir in "
                        + config.file() + "). Nothing was written");
            }
            out.println("note: not saving the plan under " + spool + ": " + problem.get() + "; saving it under " + own);
            spool = own;
        }
        Path f = spool.resolve(config.stanza().value()).resolve("restore-plans").resolve(plan.planId() + ".json");
        try {
            AtomicFile.write(f, response.text().getBytes(StandardCharsets.UTF_8));
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
            return f;
        } catch (IOException | UnsupportedOperationException e) {
            throw new RestoreRefused("cannot save the restore plan as " + f + ": " + e.getMessage() + ". Nothing was written", e);
        }
    }

    private static Optional<String> dirProblem(Path spool, ShimConfig config) {
        Path stanzaDir = spool.resolve(config.stanza().value());
        try {
            if ("root".equals(System.getProperty("user.name")) && !Files.isSymbolicLink(spool)) {
                // root in a shared spool.dir leaves the stanza's directory to PostgreSQL's user, whose
                // archive-push and prefetcher need it (SpoolDirs.createStanzaDir)
                if (!Files.isDirectory(spool, LinkOption.NOFOLLOW_LINKS)) {
                    SpoolDirs.createPrivate(spool);
                }
                SpoolDirs.createStanzaDir(stanzaDir, Optional.empty());
                if (!Files.exists(stanzaDir, LinkOption.NOFOLLOW_LINKS)) {
                    return Optional.of(stanzaDir + " is left for PostgreSQL's user (root does not create it in a shared spool)");
                }
            }
            return SpoolDirs.privateProblem(spool, List.of(stanzaDir, stanzaDir.resolve("restore-plans")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.of("cannot use " + stanzaDir + ": " + e.getMessage());
        }
    }
}
