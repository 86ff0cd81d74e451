package io.braid.rpc;

import static io.braid.rpc.ErrorPathTest.codeOf;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PlayerRateLimitTest {
    private final TestCluster cluster = new TestCluster();

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    @Test
    void aPlayerOverTheLimitIsStoppedAtTheGatewayAndOthersAreNot() throws Exception {
        AtomicInteger served = new AtomicInteger();
        cluster.server(s -> s.handle("act", StringValue.parser(), (ctx, req) -> {
            served.incrementAndGet();
            return req;
        }));
        AtomicLong clock = new AtomicLong(); // the test moves time; nothing waits
        RpcClient gateway = cluster.client(b -> b.intercept(new PlayerRateLimit(5, 3, clock::get)));

        for (int i = 0; i < 3; i++) {
            gateway.invoke(TestCluster.SERVICE, "act", "greedy", StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS);
        }
        Code fourth = codeOf(gateway.invoke(TestCluster.SERVICE, "act", "greedy", StringValue.of(""), StringValue.parser()));
        gateway.invoke(TestCluster.SERVICE, "act", "polite", StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS);
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(200)); // one call's worth at 5/s
        gateway.invoke(TestCluster.SERVICE, "act", "greedy", StringValue.of(""), StringValue.parser()).get(5, TimeUnit.SECONDS);

        assertThat(fourth).isEqualTo(Code.RESOURCE_EXHAUSTED);
        assertThat(served).hasValue(5);
    }
}
