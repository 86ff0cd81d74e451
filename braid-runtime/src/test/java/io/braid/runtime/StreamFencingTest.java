package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.discover.internal.RedisDiscover;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A logic node cut off from Redis by a black hole (no FIN, no RST: it learns of the cut only
 * because its heartbeats stop being confirmed) stops acting for a player on an already-open
 * stream too, not only on new calls: its handler is handed no message once its self-fence has
 * closed, and the gateway's stream ends UNAVAILABLE without waiting for one. Once the node's
 * registration has expired the player's next call reaches the other node.
 */
class StreamFencingTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);
    /** The runtime's self-fence for these settings: TTL minus the larger of the heartbeat and TTL / 3. */
    private static final Duration FENCE_AFTER = TTL.minus(TTL.dividedBy(3));
    private record Handled(String node, String message, Duration sinceLastHeartbeat) {
    }

    private final List<Handled> handled = new CopyOnWriteArrayList<>();
    /** When the gateway sent each message (System.nanoTime, one clock for the whole JVM). */
    private final Map<String, Long> sentAt = new ConcurrentHashMap<>();

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    private Braid.Builder logic(String id, String redisUri, AtomicReference<Braid> self) {
        return Braid.builder().service("logic").nodeId(id).ioThreads(1).redis(redisUri).heartbeat(HEARTBEAT, TTL)
                .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of(id))
                .handleStream("play", StringValue.parser(), (ctx, in, out) -> {
                    StringValue next;
                    while ((next = in.read()) != null) {
                        Duration since = ((RedisDiscover) self.get().discover()).sinceLastHeartbeat();
                        handled.add(new Handled(id, next.getValue(), since));
                    }
                });
    }

    private List<String> handledBy(String node) {
        return handled.stream().filter(h -> h.node().equals(node)).map(Handled::message).toList();
    }

    @Test
    void aNodeCutOffFromRedisStopsHandlingItsOpenTokenStreamAndThePlayerMovesOn() throws Exception {
        AtomicReference<Braid> a = new AtomicReference<>();
        AtomicReference<Braid> b = new AtomicReference<>();
        try (TcpProxy proxy = TcpProxy.to(redis.server().host(), redis.server().port())) {
            try (Braid logicA = NodeHandles.startInto(a, logic("logic-a", proxy.uri("redis"), a));
                 Braid gateway = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                         .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL).start()) {
                Await.until(Duration.ofSeconds(5), "gateway sees logic-a",
                        () -> gateway.discover().nodes("logic").size() == 1);
                // Only logic-a is up: player-1's stream goes there.
                ClientStream<StringValue, StringValue> stream = gateway.client().stream("logic", "play", "player-1",
                        StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(60)));
                stream.send(StringValue.of("m0"));
                Await.until(Duration.ofSeconds(5), "logic-a handles m0", () -> handledBy("logic-a").contains("m0"));

                try (Braid logicB = NodeHandles.startInto(b, logic("logic-b", redis.server().uri(), b))) {
                    Await.until(Duration.ofSeconds(5), "gateway sees both logic nodes",
                            () -> gateway.discover().nodes("logic").size() == 2);

                    long cutAt = System.nanoTime();
                    proxy.blackhole();
                    try {
                        // The player keeps talking on its open stream, as a game client does.
                        int sent = 0;
                        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                        while (!stream.done().isDone() && System.nanoTime() < until) {
                            String message = "m" + ++sent;
                            sentAt.put(message, System.nanoTime());
                            stream.send(StringValue.of(message));
                            Await.poll(Duration.ofMillis(50), () -> stream.done().isDone()); // a player's pace
                        }
                        Duration endedAfter = Duration.ofNanos(System.nanoTime() - cutAt);
                        // No heartbeat of logic-a succeeds in the black hole: its last one dates its fence.
                        long fenceClosedAt = System.nanoTime()
                                - ((RedisDiscover) logicA.discover()).sinceLastHeartbeat().toNanos()
                                + FENCE_AFTER.toNanos();
                        // A message sent after the fence closed cannot have passed the gate: if the
                        // handler got it, the fence let it through. (Its own reading of the clock, just
                        // after the gate's, is printed too.)
                        List<Handled> late = handled.stream().filter(h -> h.node().equals("logic-a")
                                && sentAt.getOrDefault(h.message(), Long.MIN_VALUE) > fenceClosedAt).toList();
                        long handledWhileFenced = handled.stream().filter(h -> h.node().equals("logic-a")
                                && h.sinceLastHeartbeat().compareTo(FENCE_AFTER) >= 0).count();
                        System.out.printf("stream %s %d ms after the cut (fence after %d ms without a heartbeat); "
                                + "logic-a handled %d of %d messages sent after the cut, %d sent after its fence "
                                + "closed, %d read by the handler with the fence's clock past it%n",
                                stream.done().isDone() ? "ended" : "still open", endedAfter.toMillis(),
                                FENCE_AFTER.toMillis(), handledBy("logic-a").size() - 1, sent,
                                late.size(), handledWhileFenced);

                        assertThat(late).as("messages sent after logic-a's self-fence closed that it handled").isEmpty();
                        assertThat(NodeHandles.endOf(stream)).isEqualTo(Code.UNAVAILABLE);
                        assertThat(endedAfter).isLessThan(Duration.ofSeconds(5));

                        // Once logic-a's registration has expired, player-1's next call gets a new owner.
                        Await.until(Duration.ofSeconds(15), "player-1 is served by logic-b", () -> "logic-b".equals(
                                gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser())
                                        .join().getValue()));
                        ClientStream<StringValue, StringValue> again = gateway.client().stream("logic", "play", "player-1",
                                StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(60)));
                        again.send(StringValue.of("again"));
                        Await.until(Duration.ofSeconds(5), "logic-b handles the new stream",
                                () -> handledBy("logic-b").contains("again"));
                        again.halfClose();
                        again.done().get(5, TimeUnit.SECONDS);
                        assertThat(handledBy("logic-a")).doesNotContain("again");
                    } finally {
                        proxy.restore(); // so logic-a closes without waiting out Redis timeouts
                    }
                }
            }
        }
    }
}
