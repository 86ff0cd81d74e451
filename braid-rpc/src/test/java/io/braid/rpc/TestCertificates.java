package io.braid.rpc;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made in memory at test time: a certificate authority per test class (or two, one of
 * them unrelated, for the "untrusted" cases), leaf certificates it signs, and Netty
 * {@link SslContext}s built from them. Keys are EC P-256 from the JDK; BouncyCastle only builds and
 * signs the certificates, and no security provider is installed, so nothing leaks into other tests.
 *
 * <p>Nothing touches the disk and nothing expires during a run: certificates are valid from an hour
 * ago (clock skew) to a day from now.
 */
public final class TestCertificates {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SIGNATURE = "SHA256withECDSA";

    private TestCertificates() {
    }

    /** A private key and the certificate an authority issued for it. */
    public record Identity(PrivateKey key, X509Certificate certificate) {
    }

    /** A self-signed certificate authority that issues server and client certificates. */
    public static final class Authority {
        private final X500Name name;
        private final KeyPair keys;
        private final X509Certificate certificate;

        private Authority(String commonName) {
            this.name = new X500Name("CN=" + commonName + ", O=braid tests");
            this.keys = newKeyPair();
            try {
                // Path length 0: it signs leaves only.
                this.certificate = signWith(build(name, keys.getPublic())
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                extensions().createSubjectKeyIdentifier(keys.getPublic())), keys.getPrivate());
            } catch (CertIOException e) {
                throw new IllegalStateException("cannot make the authority " + commonName, e);
            }
        }

        X509Certificate certificate() {
            return certificate;
        }

        /** A server certificate for this machine's loopback: SAN IP 127.0.0.1 and DNS localhost. */
        public Identity issueServer(String commonName) {
            return issueServer(commonName, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                    new GeneralName(GeneralName.dNSName, "localhost")}));
        }

        /** A server certificate valid only for {@code dnsName}: not for 127.0.0.1, where tests connect. */
        public Identity issueServerFor(String dnsName) {
            return issueServer(dnsName, new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
        }

        /** A client certificate, for servers that require one (mutual TLS). */
        public Identity issueClient(String commonName) {
            return issue(commonName, KeyPurposeId.id_kp_clientAuth, null);
        }

        private Identity issueServer(String commonName, GeneralNames names) {
            return issue(commonName, KeyPurposeId.id_kp_serverAuth, names);
        }

        private Identity issue(String commonName, KeyPurposeId purpose, GeneralNames names) {
            KeyPair leafKeys = newKeyPair();
            try {
                X509v3CertificateBuilder builder = build(new X500Name("CN=" + commonName + ", O=braid tests"),
                        leafKeys.getPublic())
                        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
                        .addExtension(Extension.subjectKeyIdentifier, false,
                                extensions().createSubjectKeyIdentifier(leafKeys.getPublic()))
                        .addExtension(Extension.authorityKeyIdentifier, false,
                                extensions().createAuthorityKeyIdentifier(certificate));
                if (names != null) {
                    builder.addExtension(Extension.subjectAlternativeName, false, names);
                }
                return new Identity(leafKeys.getPrivate(), signWith(builder, keys.getPrivate()));
            } catch (CertIOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot issue a certificate for " + commonName, e);
            }
        }

        private X509v3CertificateBuilder build(X500Name subject, PublicKey key) {
            Instant now = Instant.now();
            return new JcaX509v3CertificateBuilder(name, new BigInteger(64, RANDOM).add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, key);
        }
    }

    /** A new authority; each call makes one that trusts nothing the others issued. */
    public static Authority newAuthority(String commonName) {
        return new Authority(commonName);
    }

    /** TLS server context presenting {@code server}; {@code clientAuth} REQUIRE asks for a client certificate from {@code trustedClients}. */
    public static SslContext serverContext(Identity server, Authority trustedClients, ClientAuth clientAuth) {
        try {
            return SslContextBuilder.forServer(server.key(), server.certificate())
                    .trustManager(trustedClients.certificate())
                    .clientAuth(clientAuth)
                    .build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the server SslContext", e);
        }
    }

    /**
     * TLS client context that trusts {@code trusted} and checks the server's name against its
     * certificate (Netty 4.1 leaves that check off unless asked), presenting {@code own} when it is
     * not null.
     */
    public static SslContext clientContext(Authority trusted, Identity own) {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .trustManager(trusted.certificate())
                .endpointIdentificationAlgorithm("HTTPS");
        if (own != null) {
            builder.keyManager(own.key(), List.of(own.certificate()));
        }
        try {
            return builder.build();
        } catch (SSLException e) {
            throw new IllegalStateException("cannot build the client SslContext", e);
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make an EC P-256 key pair", e);
        }
    }

    private static JcaX509ExtensionUtils extensions() {
        try {
            return new JcaX509ExtensionUtils();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no SHA-1 digest for key identifiers", e);
        }
    }

    private static X509Certificate signWith(X509v3CertificateBuilder builder, PrivateKey issuerKey) {
        try {
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(issuerKey)));
        } catch (OperatorCreationException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a certificate", e);
        }
    }
}
