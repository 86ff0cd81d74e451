package io.braid.redis;

import io.lettuce.core.SslOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How braid talks TLS to a Redis reached through {@code rediss://}: the certificate authority
 * (PEM) that signed the server's certificate, and optionally a client certificate for a server
 * that asks for one ({@code tls-auth-clients yes}). Without a {@code RedisTls}, {@code rediss://}
 * trusts what the JVM trusts (its default trust store). The client always checks that the
 * server's certificate names the host of the URI. Immutable.
 *
 * <pre>{@code
 * Braid.builder().service("logic")
 *     .redis("rediss://redis.internal:6380")
 *     .redisTls(RedisTls.trusting(Path.of("/etc/braid/redis-ca.pem")))
 *     .start();
 * }</pre>
 */
public final class RedisTls {
    private final Path caCertificate;
    private final Path clientCertificate;
    private final Path clientKey;

    private RedisTls(Path caCertificate, Path clientCertificate, Path clientKey) {
        this.caCertificate = caCertificate;
        this.clientCertificate = clientCertificate;
        this.clientKey = clientKey;
    }

    /**
     * Trusts the certificate authorities in this PEM file (one or more certificates), and no other.
     *
     * @throws IllegalArgumentException if the file cannot be read
     */
    public static RedisTls trusting(Path caCertificatePem) {
        return new RedisTls(readable(caCertificatePem, "caCertificatePem"), null, null);
    }

    /**
     * The same trust, presenting this client certificate chain and its unencrypted PKCS#8 private
     * key (both PEM) to a server that requires client certificates.
     *
     * @throws IllegalArgumentException if a file cannot be read
     */
    public RedisTls withClientCertificate(Path certificateChainPem, Path privateKeyPem) {
        return new RedisTls(caCertificate, readable(certificateChainPem, "certificateChainPem"),
                readable(privateKeyPem, "privateKeyPem"));
    }

    /** The PEM file of trusted authorities. */
    public Path caCertificate() {
        return caCertificate;
    }

    SslOptions sslOptions() {
        SslOptions.Builder builder = SslOptions.builder().jdkSslProvider().trustManager(caCertificate.toFile());
        if (clientCertificate != null) {
            builder.keyManager(clientCertificate.toFile(), clientKey.toFile(), null);
        }
        return builder.build();
    }

    private static Path readable(Path file, String name) {
        Objects.requireNonNull(file, name);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(name + " must be a readable PEM file, was " + file);
        }
        return file;
    }

    @Override
    public String toString() {
        return "RedisTls{trusting " + caCertificate + (clientCertificate != null ? ", client " + clientCertificate : "") + "}";
    }
}
