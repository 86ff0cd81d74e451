package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.linkcache.internal.LinkKeys;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An owner stops acting for a player the moment the player's link points elsewhere, whoever moved
 * it, and even if it is not told: a relink by another node, the leader clearing the links of a node
 * it took for gone while that node lives (what a lagging view after FLUSHALL did in the chaos
 * suite), and a relink whose invalidation was lost with the pub/sub connections. What the user
 * sees: the open stream to the old owner ends UNAVAILABLE, the player's next calls reach the new
 * owner, and the old owner stops handling the player's messages within {@link #OVERLAP} of the new
 * owner's first piece of work for it: for a move the old owner did not make, a message already on its
 * way may still be handled while the news travels (pub/sub, or the re-check after a lost
 * invalidation), as braid-runtime's README says under "What it does not"; the handoff of a drain is
 * what moves a player with no overlap at all (HandoffTest).
 */
class OwnerGivesUpMovedPlayersTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);
    /**
     * How long after the new owner began working for the player the old owner may still handle a
     * message sent before it heard of the move. Seen: none, or one message a few ms late, when the
     * gateway re-read the link before the old owner did (their re-checks after a lost invalidation
     * race); bounded here well below the self-fence window, which bounds it when Redis is cut off.
     */
    private static final Duration OVERLAP = Duration.ofMillis(500);

    private record Handled(String node, String message, long at) {
    }

    private final List<Handled> handled = new CopyOnWriteArrayList<>();
    /** Set by a test that runs on the in-memory control plane instead of Redis. */
    private InMemoryControlPlane plane;

    private Braid.Builder controlPlane(Braid.Builder builder) {
        return plane != null ? builder.inMemory(plane) : builder.redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL);
    }

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    private Braid logic(String id) {
        return controlPlane(Braid.builder().service("logic").nodeId(id).ioThreads(1))
                .handle("who", StringValue.parser(), (ctx, req) -> {
                    handled.add(new Handled(id, "call", System.nanoTime()));
                    return StringValue.of(id);
                })
                .handleStream("play", StringValue.parser(), (ctx, in, out) -> {
                    StringValue next;
                    while ((next = in.read()) != null) {
                        handled.add(new Handled(id, next.getValue(), System.nanoTime()));
                    }
                })
                .start();
    }

    private interface Move {
        /** Moves player-1 away from {@code owner} to {@code other} (or lets the next call do it). */
        void apply(Braid gateway, Braid owner, Braid other) throws Exception;
    }

    @Test
    void aRelinkByAnotherNodeEndsTheOldOwnersStream() throws Exception {
        playerMovesWhileItsStreamIsOpen((gateway, owner, other) ->
                gateway.linkCache().relinkAsync("player-1", node(other)).join(), true);
    }

    @Test
    void aRelinkEndsTheOldOwnersStreamInMemoryToo() throws Exception {
        plane = new InMemoryControlPlane("owner-gives-up");
        playerMovesWhileItsStreamIsOpen((gateway, owner, other) ->
                gateway.linkCache().relinkAsync("player-1", node(other)).join(), true);
    }

    @Test
    void clearingTheLinksOfALiveNodeMakesItFenceItself() throws Exception {
        playerMovesWhileItsStreamIsOpen((gateway, owner, other) -> {
            // A leader acting on a stale view: the owner is alive and registered.
            gateway.linkCache().downAsync(node(owner)).join();
            // The next call links the player anew, to either node: logic-a refuses token work
            // for its quarantine (so the player may end up there again, once it is over).
        }, false);
    }

    @Test
    void aRelinkWhoseInvalidationWasLostStillEndsTheOldOwnersStream() throws Exception {
        playerMovesWhileItsStreamIsOpen((gateway, owner, other) -> {
            try (RedisProbe probe = redis.server().probe()) {
                // The link moves without its invalidation (as if it was published while the pub/sub
                // connections were down), then the connections drop: the caches cannot know what
                // they missed, and the owner must look again.
                handOverUnheard(probe, "player-1", "logic", other.node().id());
                probe.command("CLIENT", "KILL", "TYPE", "pubsub");
            }
        }, true);
    }

    @Test
    void aPlayerThatCameBackUnheardIsServedAgainWithoutWaitingOutTheRefusal() throws Exception {
        try (Braid a = logic("logic-a");
             Braid b = logic("logic-b");
             Braid gateway = controlPlane(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
            gateway.linkCache().relinkAsync("player-1", node(a)).join();
            Await.until(Duration.ofSeconds(5), "player-1 is served by logic-a", () -> "logic-a".equals(who(gateway)));
            // Moved to logic-b (logic-a hears it and refuses player-1 from now on)...
            gateway.linkCache().relinkAsync("player-1", node(b)).join();
            Await.until(Duration.ofSeconds(5), "player-1 is served by logic-b", () -> "logic-b".equals(who(gateway)));
            // ...and back to logic-a without an invalidation, then the pub/sub connections drop.
            try (RedisProbe probe = redis.server().probe()) {
                handOverUnheard(probe, "player-1", "logic", "logic-a");
                probe.command("CLIENT", "KILL", "TYPE", "pubsub");
            }
            long movedBack = System.nanoTime();
            Await.until(Duration.ofSeconds(5), "player-1 is served by logic-a again", () -> {
                try {
                    return "logic-a".equals(who(gateway));
                } catch (java.util.concurrent.CompletionException refused) {
                    return false;
                }
            });
            Duration after = Duration.ofNanos(System.nanoTime() - movedBack);
            System.out.println("player-1 served by logic-a again " + after.toMillis() + " ms after it came back unheard");
            assertThat(after).as("logic-a refused player-1 until its refusal ran out (" + Ownership.KEEP + ")")
                    .isLessThan(Ownership.KEEP.dividedBy(2));
        }
    }

    /**
     * Hands the token's link in a service to another owner behind the link cache's back, under the
     * same epoch (no invalidation): its field in the bucket where RedisLinkCache keeps it by default.
     */
    private static void handOverUnheard(RedisProbe probe, String token, String service, String owner) {
        String bucket = LinkKeys.DEFAULTS.bucketKey(token);
        String field = LinkKeys.field(token, service);
        String value = (String) probe.command("HGET", bucket, field);
        probe.command("HSET", bucket, field, owner + value.substring(value.indexOf(LinkKeys.SEPARATOR)));
    }

    /** {@code movesToOther}: the move gives player-1 to logic-b (else the next call links it anew). */
    private void playerMovesWhileItsStreamIsOpen(Move move, boolean movesToOther) throws Exception {
        try (Braid a = logic("logic-a");
             Braid gateway = controlPlane(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)).start()) {
            Await.until(Duration.ofSeconds(5), "gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
            // Only logic-a is up: player-1 is linked to it, and its stream goes there.
            assertThat(who(gateway)).isEqualTo("logic-a");
            ClientStream<StringValue, StringValue> stream = gateway.client().stream("logic", "play", "player-1",
                    StringValue.parser(), CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(60)));
            stream.send(StringValue.of("m0"));
            Await.until(Duration.ofSeconds(5), "logic-a handles m0",
                    () -> handled.stream().anyMatch(h -> h.message().equals("m0")));
            try (Braid b = logic("logic-b")) {
                Await.until(Duration.ofSeconds(5), "gateway sees both", () -> gateway.discover().nodes("logic").size() == 2);
                move.apply(gateway, a, b);
                // The player keeps talking on its stream and calling, as a game client does.
                AtomicLong sent = new AtomicLong();
                long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (!stream.done().isDone() && System.nanoTime() < until) {
                    try {
                        stream.send(StringValue.of("m" + sent.incrementAndGet()));
                    } catch (BraidException ended) {
                        break;
                    }
                    try {
                        who(gateway);
                    } catch (java.util.concurrent.CompletionException refused) {
                        // UNAVAILABLE while the move settles: the bot would retry
                    }
                    Await.poll(Duration.ofMillis(20), () -> stream.done().isDone());
                }
                assertThat(NodeHandles.endOf(stream)).as("how the old owner's stream ended").isEqualTo(Code.UNAVAILABLE);
                if (movesToOther) {
                    Await.until(Duration.ofSeconds(5), "player-1 is served by logic-b", () -> "logic-b".equals(who(gateway)));
                }
                long bBegan = handled.stream().filter(h -> h.node().equals("logic-b")).mapToLong(Handled::at).min()
                        .orElse(Long.MAX_VALUE);
                List<Handled> late = handled.stream().filter(h -> h.node().equals("logic-a") && h.at() > bBegan)
                        .toList();
                if (!late.isEmpty()) {
                    System.out.println("logic-a handled " + late.size() + " message(s) of player-1 up to "
                            + (late.getLast().at() - bBegan) / 1_000_000 + " ms after logic-b began working for it");
                }
                assertThat(late).as("what logic-a handled for player-1 more than %s after logic-b began working for it",
                        OVERLAP).noneMatch(h -> h.at() - bBegan > OVERLAP.toNanos());
            }
        }
    }

    private static String who(Braid gateway) {
        return gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(2))).join().getValue();
    }

    private static Node node(Braid braid) {
        return braid.node();
    }
}
