package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.TestCertificates;
import io.braid.testkit.Await;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Mutual TLS across a cluster: a node without a certificate the cluster trusts can call nothing. */
class MutualTlsClusterTest {
    private static final TestCertificates.Authority CLUSTER_CA = TestCertificates.newAuthority("cluster CA");
    private static final TestCertificates.Authority STRANGER_CA = TestCertificates.newAuthority("stranger CA");

    private static Braid.Builder member(InMemoryControlPlane plane, String service, TestCertificates.Authority ca) {
        TestCertificates.Identity serverId = ca.issueServer(service + " server");
        TestCertificates.Identity clientId = ca.issueClient(service + " client");
        SslContext server = TestCertificates.serverContext(serverId, ca, ClientAuth.REQUIRE);
        SslContext client = TestCertificates.clientContext(ca, clientId);
        return Braid.builder().service(service).ioThreads(1).inMemory(plane).tls(server, client);
    }

    private static Code codeOf(Braid caller) {
        try {
            caller.invoke("logic", "secret", "", StringValue.of(""), StringValue.parser()).join();
            return Code.OK;
        } catch (CompletionException e) {
            return BraidException.from(e).code();
        }
    }

    @Test
    void onlyNodesWithTheClustersCertificatesCanCall() {
        InMemoryControlPlane plane = new InMemoryControlPlane("mtls-" + UUID.randomUUID());
        AtomicInteger served = new AtomicInteger();
        try (Braid logic = member(plane, "logic", CLUSTER_CA)
                     .handle("secret", StringValue.parser(), (ctx, req) -> {
                         served.incrementAndGet();
                         return StringValue.of("the treasure");
                     }).start();
             Braid gateway = member(plane, "gateway", CLUSTER_CA).start();
             Braid stranger = member(plane, "stranger", STRANGER_CA).start();
             Braid plaintext = Braid.builder().service("plain").ioThreads(1).inMemory(plane).start()) {
            Await.until(Duration.ofSeconds(5), "everyone sees logic",
                    () -> !plaintext.discover().nodes("logic").isEmpty() && !stranger.discover().nodes("logic").isEmpty());

            assertThat(codeOf(gateway)).isEqualTo(Code.OK);
            assertThat(codeOf(stranger)).as("a certificate from another authority").isEqualTo(Code.UNAVAILABLE);
            assertThat(codeOf(plaintext)).as("no TLS at all").isEqualTo(Code.UNAVAILABLE);
            assertThat(served).hasValue(1);
        }
    }
}
