package io.tidemark.localcloud;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for local-cloud's HTTPS S3 endpoint, made once per directory with the
 * JDK's keytool and kept under {@code DIR/tls}: {@code keystore.p12} for the server and
 * {@code ca.pem} for clients to trust (tidemark.conf's {@code s3.caFile}; pgBackRest's
 * {@code repo1-storage-ca-file}). Tools that only speak S3 over TLS need it. The host is an IP SAN
 * and also a DNS-name SAN: pgBackRest matches the host only against DNS names.
 */
final class LocalTls {
    static final String ALIAS = "tidemark-local-cloud";

    private final Path keyStore;
    private final String password;
    private final Path caFile;

    private LocalTls(Path keyStore, String password, Path caFile) {
        this.keyStore = keyStore;
        this.password = password;
        this.caFile = caFile;
    }

    static LocalTls ensure(Path dir, String host) {
        Path tls = dir.resolve("tls");
        Path ks = tls.resolve("keystore.p12");
        Path pw = tls.resolve("password");
        Path ca = tls.resolve("ca.pem");
        try {
            if (Files.isRegularFile(ks) && Files.isRegularFile(pw) && Files.isRegularFile(ca)) {
                return new LocalTls(ks, Files.readString(pw).strip(), ca);
            }
            Files.createDirectories(tls);
            byte[] secret = new byte[16];
            new SecureRandom().nextBytes(secret);
            String password = HexFormat.of().formatHex(secret);
            Files.deleteIfExists(ks);
            keytool(List.of("-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1",
                    "-sigalg", "SHA256withECDSA", "-dname", "CN=" + ipOr(host) + ", O=tidemark local-cloud",
                    "-ext", "SAN=ip:" + ipOr(host) + ",dns:" + ipOr(host) + ",ip:127.0.0.1,dns:localhost", "-validity", "3650",
                    "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", password, "-keypass", password));
            keytool(List.of("-exportcert", "-rfc", "-alias", ALIAS, "-keystore", ks.toString(),
                    "-storepass", password, "-file", ca.toString()));
            Files.writeString(pw, password + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(ks, PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(ca, PosixFilePermissions.fromString("rw-r--r--"));
            return new LocalTls(ks, password, ca);
        } catch (IOException e) {
            throw new LocalCloudException("cannot prepare TLS files in " + tls + ": " + e.getMessage(), e);
        }
    }

    private static String ipOr(String host) {
        return host.matches("[0-9.]+") ? host : "127.0.0.1";
    }

    private static void keytool(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new LocalCloudException("keytool failed to make the local TLS certificate: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalCloudException("interrupted while making the local TLS certificate", e);
        }
    }

    Path keyStore() {
        return keyStore;
    }

    String password() {
        return password;
    }

    Path caFile() {
        return caFile;
    }
}
