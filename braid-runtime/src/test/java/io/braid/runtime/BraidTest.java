package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Role;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Nodes built by the Braid builder find and call each other, on both control planes. */
class BraidTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    static void await(String what, Duration within, BooleanSupplier condition) {
        io.braid.testkit.Await.until(within, what, condition);
    }

    private static Braid.Builder gateway(UnaryOperator<Braid.Builder> plane) {
        return plane.apply(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1));
    }

    private static Braid.Builder logic(UnaryOperator<Braid.Builder> plane) {
        return plane.apply(Braid.builder().service("logic").nodeId("logic-1").ioThreads(1)
                .handle("hello", StringValue.parser(), (ctx, req) ->
                        StringValue.of("hello " + req.getValue() + " from logic-1, called by " + ctx.caller())));
    }

    private void twoNodesCallEachOtherByServiceName(UnaryOperator<Braid.Builder> plane) throws Exception {
        try (Braid logic = logic(plane).start(); Braid gateway = gateway(plane).start()) {
            await("gateway sees logic", Duration.ofSeconds(2), () -> !gateway.discover().nodes("logic").isEmpty());

            String reply = gateway.invoke("logic", "hello", "", StringValue.of("ann"), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue();

            assertThat(reply).isEqualTo("hello ann from logic-1, called by gateway-1");
            await("each leads its own service", Duration.ofSeconds(5),
                    () -> logic.elector().isLeader() && gateway.elector().isLeader());
        }
    }

    @Test
    void twoNodesInOneJvmCallEachOtherInMemory() throws Exception {
        InMemoryControlPlane plane = new InMemoryControlPlane("test-" + UUID.randomUUID());
        twoNodesCallEachOtherByServiceName(b -> b.inMemory(plane));
    }

    @Test
    void twoNodesInOneJvmCallEachOtherOnRedis() throws Exception {
        twoNodesCallEachOtherByServiceName(b -> b.redis(redis.server().uri()));
    }

    @Test
    void aClosedNodeIsNoLongerCalledAndItsLeadershipPassesOn() throws Exception {
        InMemoryControlPlane plane = new InMemoryControlPlane("test-" + UUID.randomUUID());
        Braid first = Braid.builder().service("logic").nodeId("logic-a").ioThreads(1).inMemory(plane)
                .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("a")).start();
        try (Braid second = Braid.builder().service("logic").nodeId("logic-b").ioThreads(1).inMemory(plane)
                .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("b")).start();
             Braid caller = gateway(b -> b.inMemory(plane)).start()) {
            assertThat(first.elector().role()).isEqualTo(Role.LEADER);

            first.close();
            first.close(); // idempotent

            await("caller forgets logic-a", Duration.ofSeconds(2), () -> caller.discover().nodes("logic").size() == 1);
            for (int i = 0; i < 20; i++) {
                assertThat(caller.invoke("logic", "who", "", StringValue.of(""), StringValue.parser())
                        .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("b");
            }
            assertThat(second.elector().isLeader()).isTrue();
        }
    }

    @Test
    void namedPlanesConnectNodesBuiltApart() throws Exception {
        String name = "named-" + UUID.randomUUID();
        try (Braid logic = logic(b -> b.inMemory(name)).start(); Braid gateway = gateway(b -> b.inMemory(name)).start()) {
            assertThat(gateway.discover().nodes("logic")).extracting(n -> n.id()).containsExactly("logic-1");
            assertThat(logic.node().port()).isPositive();
        }
    }

    @Test
    void badSettingsFailAtOnceAndAStartThatFailsLeavesNothingBehind() throws Exception {
        assertThatThrownBy(() -> Braid.builder().start()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("service");
        assertThatThrownBy(() -> Braid.builder().weight(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight");
        assertThatThrownBy(() -> Braid.builder().service("x").redis("redis://127.0.0.1:1").inMemory("y").start())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("one control plane");

        int threadsBefore = Thread.activeCount();
        assertThatThrownBy(() -> Braid.builder().service("logic").redis("redis://127.0.0.1:1").start())
                .isInstanceOfSatisfying(BraidException.class, e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE));
        await("threads of the failed start are gone", Duration.ofSeconds(5), () -> Thread.activeCount() <= threadsBefore);
    }
}
