package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.api.Message;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A {@link Braid.Builder} is read once, by {@link Braid.Builder#start()}: whatever is set on it
 * afterwards changes nothing in the node it started (as an OkHttp client does not follow the
 * builder it came from).
 */
class BuilderReadOnceTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private static List<String> watch(Braid braid, String topic) {
        List<String> bodies = new CopyOnWriteArrayList<>();
        braid.topic(topic).subscribe("watcher", ChannelOptions.DEFAULT.withStartAt(ChannelOptions.StartPosition.EARLIEST))
                .onMessage((Message m) -> bodies.add(new String(m.body(), StandardCharsets.UTF_8)));
        return bodies;
    }

    /** Sets every setting of {@code builder} to something else than the node was started with. */
    private static void changeEverything(Braid.Builder builder, AtomicInteger lateHooks) {
        builder.service("changed").nodeId("changed-1").host("10.9.9.9").weight(1).metadata("zone", "b")
                .heartbeat(Duration.ofMillis(100), Duration.ofMillis(300)).lease(Duration.ofMillis(400))
                .defaultTimeout(Duration.ofMillis(1)).shutdownGrace(Duration.ZERO).drainTimeout(Duration.ofMillis(1))
                .trimInterval(Duration.ofMillis(1)).nearCache(false)
                .handle("late", StringValue.parser(), (ctx, req) -> StringValue.of("late"))
                .beforeStop(braid -> lateHooks.incrementAndGet())
                .afterStop(lateHooks::incrementAndGet)
                .afterStart(braid -> lateHooks.incrementAndGet());
    }

    @Test
    void settingsChangedAfterStartChangeNothingInTheStartedNode() throws Exception {
        InMemoryControlPlane plane = new InMemoryControlPlane("read-once-" + UUID.randomUUID());
        AtomicInteger lateHooks = new AtomicInteger();
        try (Braid observer = Braid.builder().service("observer").ioThreads(1).inMemory(plane).start()) {
            List<String> members = watch(observer, ClusterEvents.DISCOVER_SERVICE_UPDATE);
            List<String> roles = watch(observer, ClusterEvents.ELECTION_CHANGE_STATE);

            Braid.Builder first = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1).inMemory(plane)
                    .metadata("zone", "a").defaultTimeout(Duration.ofSeconds(5))
                    .handle("slow", StringValue.parser(), (ctx, req) -> {
                        Thread.sleep(50);
                        return StringValue.of("slow");
                    });
            Braid logic1 = first.start();
            try {
                Await.until(WAIT, "logic-1 leads", () -> logic1.elector().isLeader());
                changeEverything(first, lateHooks);

                assertThat(logic1.node().service()).isEqualTo("logic");
                assertThat(logic1.node().id()).isEqualTo("logic-1");
                assertThat(logic1.node().weight()).isEqualTo(100);
                assertThat(logic1.node().metadata()).isEqualTo(Map.of("zone", "a"));
                assertThat(observer.invoke("logic", "slow", "", StringValue.of(""), StringValue.parser())
                        .get(5, TimeUnit.SECONDS).getValue()).as("calls keep the timeout of the node").isEqualTo("slow");
                assertThat(codeOf(() -> observer.invoke("logic", "late", "", StringValue.of(""), StringValue.parser())
                        .join())).as("a handler added after start").isEqualTo(Code.NOT_FOUND);

                // The leader announces its own service's members: the service it started with.
                Braid.Builder second = Braid.builder().service("logic").nodeId("logic-2").ioThreads(1).inMemory(plane);
                Braid logic2 = second.start();
                try {
                    changeEverything(second, lateHooks);
                    Await.until(WAIT, "the leader announces logic-2 joined", () -> members.stream()
                            .anyMatch(b -> b.contains("\"type\":\"ADDED\"") && b.contains("\"node\":\"logic-2\"")));
                    logic1.close();
                    Await.until(WAIT, "logic-2 announces it leads logic", () -> roles.stream()
                            .anyMatch(b -> b.contains("\"node\":\"logic-2\"") && b.contains("\"role\":\"LEADER\"")));
                    assertThat(roles).filteredOn(b -> b.contains("\"node\":\"logic-2\""))
                            .allMatch(b -> b.contains("\"service\":\"logic\""), "names the service it started with");
                } finally {
                    logic2.close();
                }
            } finally {
                logic1.close();
            }
            assertThat(lateHooks).as("hooks added after start").hasValue(0);
        }
    }

    private static Code codeOf(Runnable call) {
        try {
            call.run();
            return Code.OK;
        } catch (CompletionException | BraidException e) {
            return BraidException.from(e).code();
        }
    }
}
