package io.tidemark.events.backup;

/** A tablespace: its OID (the name of its link under {@code pg_tblspc}) and where it lived on the source. */
public record ManifestTablespace(long oid, String name, String location) {
    public ManifestTablespace {
        ManifestFile.require(oid > 0 && oid <= 0xFFFFFFFFL, "tablespace oid out of range: " + oid);
        ManifestFile.require(location != null && location.startsWith("/") && location.indexOf('\0') < 0,
                "tablespace " + oid + ": location must be an absolute path, got '" + location + "'");
    }
}
