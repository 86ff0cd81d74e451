package io.braid.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A certificate authority of its own and a server certificate it signed for 127.0.0.1 and
 * localhost, as PEM files made by {@code openssl} from the PATH: what a TLS {@code redis-server}
 * needs ({@code tls-cert-file}, {@code tls-key-file}, {@code tls-ca-cert-file}) and what a client
 * must trust ({@link #caCertificate()}). Keys are EC P-256; certificates are valid from an hour
 * ago to two days from now.
 */
final class TlsFiles {
    private static final long OPENSSL_TIMEOUT_SECONDS = 30;

    private final Path caCertificate;
    private final Path serverCertificate;
    private final Path serverKey;
    private SSLSocketFactory socketFactory;

    private TlsFiles(Path dir) {
        this.caCertificate = dir.resolve("ca.crt");
        this.serverCertificate = dir.resolve("server.crt");
        this.serverKey = dir.resolve("server.key");
    }

    /**
     * Makes a new authority and server certificate in {@code dir} (created if needed).
     *
     * @throws IllegalStateException if {@code openssl} is not on the PATH or fails (its output is in
     *         the message)
     */
    static TlsFiles create(Path dir, String searchPath) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
        String openssl;
        try {
            openssl = RedisBinaries.locate("openssl", searchPath).toString();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("openssl not found on PATH; RedisServer.Builder.tls() makes its "
                    + "certificates with it: install it (Debian/Ubuntu: apt-get install openssl; macOS: brew install openssl)", e);
        }
        TlsFiles files = new TlsFiles(dir);
        Path caKey = dir.resolve("ca.key");
        Path request = dir.resolve("server.csr");
        Path extensions = dir.resolve("server.ext");
        try {
            Files.writeString(extensions, "basicConstraints=CA:FALSE\n"
                    + "keyUsage=critical,digitalSignature\n"
                    + "extendedKeyUsage=serverAuth\n"
                    + "subjectAltName=IP:127.0.0.1,DNS:localhost\n", StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + extensions, e);
        }
        run(dir, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", caKey.toString(), "-out", files.caCertificate.toString(), "-days", "2",
                "-subj", "/O=braid tests/CN=braid test CA " + dir.getFileName());
        run(dir, openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", files.serverKey.toString(), "-out", request.toString(),
                "-subj", "/O=braid tests/CN=127.0.0.1");
        run(dir, openssl, "x509", "-req", "-in", request.toString(), "-CA", files.caCertificate.toString(),
                "-CAkey", caKey.toString(), "-CAcreateserial", "-days", "2", "-extfile", extensions.toString(),
                "-out", files.serverCertificate.toString());
        return files;
    }

    /** The authority's certificate (PEM): what a client must trust to talk to the server. */
    Path caCertificate() {
        return caCertificate;
    }

    Path serverCertificate() {
        return serverCertificate;
    }

    Path serverKey() {
        return serverKey;
    }

    /** A socket factory that trusts this authority only, for {@link RedisProbe}. */
    synchronized SSLSocketFactory socketFactory() {
        if (socketFactory == null) {
            socketFactory = newSocketFactory();
        }
        return socketFactory;
    }

    private SSLSocketFactory newSocketFactory() {
        try (InputStream in = Files.newInputStream(caCertificate)) {
            Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            trusted.setCertificateEntry("braid-test-ca", ca);
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + caCertificate, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot trust " + caCertificate, e);
        }
    }

    private static void run(Path dir, String... command) {
        List<String> line = new ArrayList<>(List.of(command));
        try {
            Process process = new ProcessBuilder(line).directory(dir.toFile()).redirectErrorStream(true).start();
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(OPENSSL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", line) + " did not finish in "
                        + OPENSSL_TIMEOUT_SECONDS + " s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", line) + " failed with code " + process.exitValue()
                        + ":" + System.lineSeparator() + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", line), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", line), e);
        }
    }
}
