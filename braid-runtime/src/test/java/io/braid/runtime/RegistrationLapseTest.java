package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.discover.internal.RedisDiscover;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node whose registration lapsed (its heartbeats went unconfirmed for longer than the TTL, or
 * Redis lost its record) may have had its players given to other nodes meanwhile. Work routed to
 * it before the lapse must not run after it: its open token streams end UNAVAILABLE, and token
 * work waits out a quarantine after the lapse ({@link SelfFence}). Faults: FLUSHALL (Redis loses
 * every record and link, no connection drops) and a black-holed link to Redis past the TTL.
 */
class RegistrationLapseTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);
    private static final Duration QUARANTINE = SelfFence.quarantine(HEARTBEAT);

    /** What a handler saw: which message, and how long ago its node's registration lapse ended. */
    private record Handled(String message, Duration sinceLapse) {
    }

    private final List<Handled> handled = new CopyOnWriteArrayList<>();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    private Braid.Builder logic(String redisUri, AtomicReference<Braid> self) {
        return Braid.builder().service("logic").nodeId("logic-a").ioThreads(1).redis(redisUri).heartbeat(HEARTBEAT, TTL)
                .handle("who", StringValue.parser(), (ctx, req) -> {
                    handled.add(new Handled(req.getValue(), sinceLapse(self.get())));
                    return StringValue.of("logic-a");
                })
                .handleStream("play", StringValue.parser(), (ctx, in, out) -> {
                    StringValue next;
                    while ((next = in.read()) != null) {
                        handled.add(new Handled(next.getValue(), sinceLapse(self.get())));
                    }
                });
    }

    private static Duration sinceLapse(Braid node) {
        return ((RedisDiscover) node.discover()).sinceRegistrationLapse();
    }

    private Braid gateway() {
        return Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).redis(redis.server().uri())
                .heartbeat(HEARTBEAT, TTL).start();
    }

    @Test
    void aStreamOpenedBeforeRedisLostItsDataEndsOnceItsOwnerNoticesTheLapse() throws Exception {
        AtomicReference<Braid> self = new AtomicReference<>();
        try (Braid logic = NodeHandles.startInto(self, logic(redis.server().uri(), self)); Braid gateway = gateway()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
            ClientStream<StringValue, StringValue> stream = gateway.client().stream("logic", "play", "player-1",
                    StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(60)));
            stream.send(StringValue.of("m0"));
            Await.until(Duration.ofSeconds(5), "logic-a handles m0", () -> handled.size() == 1);
            assertThat(sinceLapse(logic)).as("no lapse yet").isNull();

            long flushedAt = System.nanoTime();
            redis.server().flushAll(); // the player's link is gone: the next call may pick any node
            int sent = 0;
            long until = flushedAt + Duration.ofSeconds(10).toNanos();
            while (!stream.done().isDone() && System.nanoTime() < until) {
                stream.send(StringValue.of("m" + ++sent));
                Await.poll(Duration.ofMillis(50), () -> stream.done().isDone()); // a player's pace
            }
            Duration endedAfter = Duration.ofNanos(System.nanoTime() - flushedAt);
            System.out.printf("the stream ended %d ms after FLUSHALL (heartbeat %d ms), %d messages sent%n",
                    endedAfter.toMillis(), HEARTBEAT.toMillis(), sent);

            assertThat(stream.done()).as("the open stream ends").isDone();
            assertThat(NodeHandles.endOf(stream)).isEqualTo(Code.UNAVAILABLE);
            assertThat(endedAfter).as("one heartbeat finds the record gone, one fence check ends the stream")
                    .isLessThan(Duration.ofSeconds(3));
            assertThat(handled).as("messages handled after the owner knew of the lapse")
                    .filteredOn(h -> h.sinceLapse() != null && h.sinceLapse().compareTo(QUARANTINE) < 0).isEmpty();

            // After the quarantine the player is served again (here by the same node: it is the only one).
            Await.until(Duration.ofSeconds(10), "player-1 is served again", () -> "logic-a".equals(
                    gateway.invoke("logic", "who", "player-1", StringValue.of("after"), StringValue.parser())
                            .join().getValue()));
        }
    }

    @Test
    void tokenCallsWaitOutAQuarantineAfterTheRegistrationLapsed() throws Exception {
        AtomicReference<Braid> self = new AtomicReference<>();
        try (TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port());
                Braid logic = NodeHandles.startInto(self, logic(proxy.uri("redis"), self)); Braid gateway = gateway()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
            assertThat(call(gateway, "before")).isEqualTo(Code.OK);

            proxy.blackhole(); // as a frozen process: no heartbeat gets through, nothing is closed
            Await.until(Duration.ofSeconds(10), "logic-a's registration expires",
                    () -> gateway.discover().nodes("logic").isEmpty());
            proxy.restore();

            // The player keeps trying, as a gateway's retries would, until it is served again.
            int attempt = 0;
            long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (handled.stream().noneMatch(h -> h.message().startsWith("after-")) && System.nanoTime() < until) {
                call(gateway, "after-" + ++attempt);
            }
            Duration lapse = sinceLapse(logic);
            System.out.printf("served again after %d attempts; the lapse ended %d ms ago (quarantine %d ms)%n",
                    attempt, lapse == null ? -1 : lapse.toMillis(), QUARANTINE.toMillis());
            assertThat(lapse).as("logic-a noticed its lapse").isNotNull();
            List<Handled> after = handled.stream().filter(h -> h.message().startsWith("after-")).toList();
            assertThat(after).as("served again").isNotEmpty();
            assertThat(after).as("token calls that ran within the quarantine after the lapse")
                    .allSatisfy(h -> assertThat(h.sinceLapse()).isGreaterThanOrEqualTo(QUARANTINE));
        }
    }

    private static Code call(Braid gateway, String what) {
        try {
            gateway.invoke("logic", "who", "player-1", StringValue.of(what), StringValue.parser(),
                    CallOptions.DEFAULT.withTimeout(Duration.ofMillis(500))).join();
            return Code.OK;
        } catch (CompletionException e) {
            return BraidException.from(e).code();
        }
    }
}
