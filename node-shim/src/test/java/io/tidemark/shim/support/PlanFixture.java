package io.tidemark.shim.support;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.plan.RecoveryRequest;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.plan.RestoreTarget;
import io.tidemark.events.plan.TargetAction;
import io.tidemark.events.plan.TimelineTarget;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.LocalSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.storage.Codec;
import java.io.ByteArrayOutputStream;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * A synthetic backup and the signed restore plan for it, as the planner would hand it out:
 * files stored as single objects (zstd, lz4, none) and in a bundle, uploaded to the local S3 when
 * a cloud is given; the plan signed with a test key whose public key goes into the node config.
 */
public final class PlanFixture {
    public static final String SYSID = "7300000000000000001";
    public static final KeyPair KEYS = EcKeys.generate();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public final String stanza;
    public final BackupLabelName label = BackupLabelName.full(LocalDateTime.of(2026, 11, 21, 6, 0, 0));
    public final Map<String, byte[]> contents = new LinkedHashMap<>();
    public final List<PlanFile> files = new ArrayList<>();
    public final Set<String> keys = new LinkedHashSet<>();
    public final List<SafeRelativePath> directories = new ArrayList<>();
    public final List<ManifestTablespace> tablespaces = new ArrayList<>();
    /** WAL files the plan lists, and the segments it promises (both empty unless a test sets them). */
    public final List<PlanWal> wal = new ArrayList<>();
    public final List<PlanWalRange> walRanges = new ArrayList<>();
    public WalSegmentSize walSegmentSize = WalSegmentSize.DEFAULT;
    public RecoveryRequest request = new RecoveryRequest(RestoreTarget.of("time", "2026-11-21T07:00:00Z"), false,
            new TimelineTarget.Latest(), TargetAction.PROMOTE);
    public String systemIdentifier = SYSID;
    public Instant createdAt = Instant.now().minusSeconds(5);
    public Instant expiresAt = Instant.now().plus(Duration.ofHours(1));
    private final LocalCloud cloud;
    private final Map<String, byte[]> objects = new LinkedHashMap<>();

    /** @param cloud where objects are uploaded, or null for plans that are never downloaded */
    public PlanFixture(String stanza, LocalCloud cloud) {
        this.stanza = stanza;
        this.cloud = cloud;
    }

    /** The public key as tidemark.conf's plan.publicKey (bare base64 DER). */
    public static String publicKey() {
        return Base64.getEncoder().encodeToString(KEYS.getPublic().getEncoded());
    }

    public static String sha(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A file stored as its own object. */
    public PlanFixture file(String path, byte[] raw, Compression c) {
        byte[] stored = Codec.compress(c, 1, raw);
        String key = stanza + "/backup/" + label + "/data/" + path + (c == Compression.NONE ? "" : "." + c.extension());
        objects.put(key, stored);
        keys.add(key);
        contents.put(path, raw);
        files.add(new PlanFile(SafeRelativePath.of(path), raw.length, sha(raw), label, key, c, false, 0, stored.length,
                sha(stored)));
        return this;
    }

    /** Files stored one after the other in one bundle object (with a few bytes of padding between). */
    public PlanFixture bundle(String name, Compression c, Map<String, byte[]> members) {
        String key = stanza + "/backup/" + label + "/bundle/" + name;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> m : members.entrySet()) {
            byte[] stored = Codec.compress(c, 1, m.getValue());
            long offset = out.size();
            out.writeBytes(stored);
            out.writeBytes(new byte[] {0x55, 0x55, 0x55});
            contents.put(m.getKey(), m.getValue());
            files.add(new PlanFile(SafeRelativePath.of(m.getKey()), m.getValue().length, sha(m.getValue()), label, key, c, true,
                    offset, stored.length, sha(stored)));
        }
        objects.put(key, out.toByteArray());
        keys.add(key);
        return this;
    }

    public PlanFixture directory(String path) {
        directories.add(SafeRelativePath.of(path));
        return this;
    }

    /** Uploads every object to the cloud's S3. */
    public PlanFixture upload() {
        try (var s3 = TestCloud.client(cloud)) {
            objects.forEach((k, v) -> s3.putObject(b -> b.bucket(cloud.bucket()).key(k), RequestBody.fromBytes(v)));
        }
        return this;
    }

    /** The stored bytes of an object. */
    public byte[] stored(String key) {
        return objects.get(key).clone();
    }

    public String backupLabelFile() {
        return "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\n"
                + "BACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: 2026-11-21 06:00:00 UTC\nLABEL: " + label
                + "\nSTART TIMELINE: 1\n";
    }

    public RestorePlan plan(String planId) {
        Optional<String> map = tablespaces.isEmpty() ? Optional.empty() : Optional.of(tablespaces.stream()
                .map(t -> t.oid() + " " + t.location() + "\n").reduce("", String::concat));
        return new RestorePlan(1, planId, StanzaName.of(stanza), systemIdentifier, 150018, walSegmentSize,
                createdAt, expiresAt, request, TimelineId.of(1), label, List.of(label), Lsn.parse("0/2000028"),
                Lsn.parse("0/2000100"), TimelineId.of(1), backupLabelFile(), map, tablespaces, directories, files, wal,
                request.settings(), "test plan", walRanges);
    }

    public ObjectNode envelope(String planId) {
        return SignedEnvelope.sign(RestorePlanJson.toJson(plan(planId)), new LocalSigner(KEYS));
    }

    /** URLs for every object, valid for {@code ttl}; {@code broken} spoils each signature (S3 answers 403). */
    public ObjectNode urls(Duration ttl, boolean broken) {
        ObjectNode o = MAPPER.createObjectNode();
        ObjectNode urls = o.putObject("urls");
        try (S3Presigner p = S3Presigner.builder().endpointOverride(cloud.s3Endpoint()).region(Region.of(cloud.region()))
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        cloud.credentials().accessKeyId(), cloud.credentials().secretAccessKey())))
                .build()) {
            for (String k : keys) {
                String u = p.presignGetObject(r -> r.signatureDuration(ttl).getObjectRequest(g -> g.bucket(cloud.bucket()).key(k)))
                        .url().toString();
                if (broken) {
                    u = u.replaceAll("X-Amz-Signature=[0-9a-f]{4}", "X-Amz-Signature=0000");
                }
                urls.put(k, u);
            }
        }
        o.put("urlsExpireAt", Instant.now().plus(ttl).toString());
        return o;
    }

    /** The planner's 201 answer: {@code {"plan": envelope, "urls": ..., "urlsExpireAt": ...}}. */
    public ObjectNode response(String planId, Duration ttl, boolean broken) {
        ObjectNode r = MAPPER.createObjectNode();
        r.set("plan", envelope(planId));
        r.setAll(urls(ttl, broken));
        return r;
    }
}
