package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Gateway sessions on one real redis-server when Redis misbehaves under them, with real gateways, a
 * logic node pushing and GatewayClients: Redis restarting empty, FLUSHALL, and Redis frozen
 * (SIGSTOP, then SIGCONT). Each test states what the player sees and checks our promise: a
 * session's pushes are never shown twice nor out of order; a push acknowledged to its pusher reaches
 * the client or the client learns of the gap (it logs in afresh: RELOGGED); afterwards every session
 * works (with a durable record) or has ended with a clear reason, and the next push and resume work.
 */
class RedisGatewayFaultsTest {
    static final Duration WAIT = Duration.ofSeconds(15);
    /** Short, so the refresh (every grace / 2) notices a lost record within a second. */
    static final Duration GRACE = Duration.ofSeconds(2);

    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private GatewayFixture cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** One clock for acknowledgements and client events, to order them. */
    private final AtomicLong clock = new AtomicLong();

    @BeforeEach
    void start() {
        redis.server().flushAll();
        cluster = GatewayFixture.onRedis(redis.server().uri());
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable closeable : toClose.reversed()) {
            closeable.close();
        }
        cluster.close();
    }

    /** A player's GatewayClient and what it saw, in order: events and pushes, each stamped by {@link #clock}. */
    final class Player {
        final String token;
        final GatewayClient client;
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<ClientEvent> events = new CopyOnWriteArrayList<>();
        final Set<String> payloads = ConcurrentHashMap.newKeySet();
        volatile long lastRelogAt = -1;

        Player(String name, List<InetSocketAddress> addresses) {
            token = "player:" + name;
            client = GatewayClient.builder().addresses(addresses).transport(Transport.TCP)
                    .credentials(token.getBytes(StandardCharsets.UTF_8))
                    .connectTimeout(Duration.ofSeconds(2))
                    .pingEvery(Duration.ofMillis(500))
                    .reconnect(Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(25))
                    .onPush((seq, payload) -> {
                        String text = new String(payload, StandardCharsets.UTF_8);
                        seen.add("push " + seq + " " + text);
                        payloads.add(text);
                    })
                    .onEvent(event -> {
                        events.add(event);
                        seen.add("event " + event.type());
                        if (event.type() == ClientEvent.Type.RELOGGED) {
                            lastRelogAt = clock.incrementAndGet();
                        }
                    }).build();
            toClose.add(client);
            client.connect().join();
        }

        long count(ClientEvent.Type type) {
            return events.stream().filter(event -> event.type() == type).count();
        }

        void awaitEvents(ClientEvent.Type type, long count) {
            Await.until(WAIT, () -> token + ": " + count + " x " + type + "; heard " + events,
                    () -> count(type) >= count);
        }

        /**
         * Pushes of one session (between relogins) count 1, 2, 3, ... each once, never going back;
         * no GAP; duplicates suppressed by the client: none.
         */
        void assertEachSessionsPushesInOrderOnce() {
            long last = 0;
            for (String line : seen) {
                if (line.equals("event RELOGGED")) {
                    last = 0;
                } else if (line.startsWith("push ")) {
                    long seq = Long.parseLong(line.split(" ")[1]);
                    assertThat(seq).as("%s: after push %d in %s", token, last, seen).isEqualTo(last + 1);
                    last = seq;
                }
            }
            assertThat(count(ClientEvent.Type.GAP)).as("%s gaps: %s", token, seen).isZero();
            assertThat(client.stats().duplicatesSuppressed()).as(token + " duplicates").isZero();
        }
    }

    /** Pushes a new payload to {@code player} every few ms until stopped; remembers each acknowledged. */
    final class Pusher implements AutoCloseable {
        final Player player;
        final AtomicBoolean running = new AtomicBoolean(true);
        /** Acknowledged payload with the clock when it was acknowledged. */
        final List<long[]> acknowledged = new CopyOnWriteArrayList<>();
        final AtomicLong refused = new AtomicLong();
        final Thread thread;

        Pusher(Player player) {
            this.player = player;
            thread = Thread.ofVirtual().start(() -> {
                long n = 0;
                while (running.get()) {
                    n++;
                    try {
                        cluster.pusher().push(player.token, ("n" + n).getBytes(StandardCharsets.UTF_8)).join();
                        acknowledged.add(new long[] {n, clock.incrementAndGet()});
                    } catch (RuntimeException e) {
                        refused.incrementAndGet();
                    }
                    try {
                        Thread.sleep(5); // pacing the pusher, not waiting for a condition
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            toClose.add(this);
        }

        /** Acknowledged pushes since {@code count} acknowledgements. */
        int acknowledgedCount() {
            return acknowledged.size();
        }

        void awaitAcknowledged(int more) {
            int target = acknowledged.size() + more;
            Await.until(WAIT, () -> player.token + ": " + target + " pushes acknowledged (refused " + refused + ")",
                    () -> acknowledged.size() >= target);
        }

        /** Every acknowledged push reached the client, unless the client logged in afresh after it was acknowledged. */
        void assertNoneSilentlyLost() {
            Await.until(WAIT, () -> player.token + ": every acknowledged push delivered or a relogin after it; missing "
                    + missing(), () -> missing().isEmpty());
        }

        private List<Long> missing() {
            List<Long> missing = new ArrayList<>();
            long relog = player.lastRelogAt;
            for (long[] ack : acknowledged) {
                if (!player.payloads.contains("n" + ack[0]) && !(relog > ack[1])) {
                    missing.add(ack[0]);
                }
            }
            return missing;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    private CuttableProxy proxy(InetSocketAddress target) {
        CuttableProxy proxy = new CuttableProxy(target);
        toClose.add(proxy);
        return proxy;
    }

    private long pushWhenReachable(String token, String payload) {
        AtomicReference<Long> seq = new AtomicReference<>();
        Await.until(WAIT, "a push to " + token + " to be taken", () -> {
            try {
                seq.set(cluster.pusher().push(token, payload.getBytes(StandardCharsets.UTF_8)).join());
                return true;
            } catch (RuntimeException e) {
                Code code = BraidException.from(e).code();
                if (code == Code.UNAVAILABLE || code == Code.NOT_FOUND) {
                    return false; // the binding settles (a relogin under way)
                }
                throw e;
            }
        });
        return seq.get();
    }

    private void assertOneBoundSession(String token) {
        Await.until(WAIT, () -> token + " bound on exactly one gateway, named by its link; events "
                + cluster.eventsOf(token), () -> {
                    long bound = cluster.eventsOf(token).stream().filter(event -> event.type() == SessionEvent.Type.BOUND
                            || event.type() == SessionEvent.Type.RESUMED).count();
                    long ended = cluster.eventsOf(token).stream().filter(event -> event.type() == SessionEvent.Type.CLOSED
                            || event.type() == SessionEvent.Type.KICKED).count();
                    long resumed = cluster.eventsOf(token).stream()
                            .filter(event -> event.type() == SessionEvent.Type.RESUMED).count();
                    return bound - resumed - ended == 1 && cluster.boundTo(token) != null;
                });
    }

    enum DataLoss { FLUSHALL, RESTART_EMPTY }

    @ParameterizedTest
    @EnumSource(DataLoss.class)
    void whenRedisLosesItsDataEverySessionEndsWithAClearReasonAndItsPlayerLogsInAfreshAndGoesOn(DataLoss fault) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(GRACE));
        Player attached = new Player("attached", List.of(one.tcp(), two.tcp()));
        CuttableProxy toTwo = proxy(two.tcp());
        Player detached = new Player("detached", List.of(toTwo.address()));
        Pusher pushes = new Pusher(attached);
        pushes.awaitAcknowledged(20);
        assertThat(pushWhenReachable(detached.token, "d1")).isEqualTo(1);
        Await.until(WAIT, "d1 delivered", () -> detached.payloads.contains("d1"));
        toTwo.refuse(true);
        toTwo.cut();
        detached.awaitEvents(ClientEvent.Type.DISCONNECTED, 1);
        assertThat(pushWhenReachable(detached.token, "d2")).as("buffered for the grace").isEqualTo(2);

        switch (fault) {
            case FLUSHALL -> redis.server().flushAll();
            case RESTART_EMPTY -> redis.server().restartEmpty();
        }

        // What the players see: the attached one is told NOT_FOUND and logs in afresh; the detached
        // one's resume is refused NOT_FOUND and it logs in afresh. Each session ends with one CLOSED.
        attached.awaitEvents(ClientEvent.Type.RELOGGED, 1);
        assertThat(attached.events.stream().filter(event -> event.type() == ClientEvent.Type.RELOGGED).findFirst()
                .orElseThrow().detail()).contains("NOT_FOUND");
        Await.until(WAIT, () -> "the detached session closed; events " + cluster.eventsOf(detached.token),
                () -> cluster.eventsOf(detached.token).stream().anyMatch(event -> event.type() == SessionEvent.Type.CLOSED));
        toTwo.refuse(false);
        detached.awaitEvents(ClientEvent.Type.RELOGGED, 1);
        assertThat(cluster.eventsOf(detached.token)).extracting(SessionEvent::type).containsExactly(
                SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED, SessionEvent.Type.BOUND);
        assertThat(cluster.eventsOf(detached.token).get(1).reason()).contains("lost the record");
        assertThat(detached.payloads).as("d2 was lost with Redis's data; the player learnt it by the relogin")
                .doesNotContain("d2");

        // Afterwards: pushes flow again on the new sessions, and a resume works.
        pushes.awaitAcknowledged(20);
        assertThat(pushWhenReachable(detached.token, "d3")).isEqualTo(1);
        Await.until(WAIT, "d3 delivered", () -> detached.payloads.contains("d3"));
        toTwo.refuse(true);
        toTwo.cut();
        detached.awaitEvents(ClientEvent.Type.DISCONNECTED, 2);
        assertThat(pushWhenReachable(detached.token, "d4")).isEqualTo(2);
        toTwo.refuse(false);
        detached.awaitEvents(ClientEvent.Type.RESUMED, 1);
        Await.until(WAIT, "d4 replayed", () -> detached.payloads.contains("d4"));

        pushes.assertNoneSilentlyLost();
        attached.assertEachSessionsPushesInOrderOnce();
        detached.assertEachSessionsPushesInOrderOnce();
        assertOneBoundSession(attached.token);
        assertOneBoundSession(detached.token);
        assertThat(attached.count(ClientEvent.Type.RELOGGED)).as("one relogin: %s", attached.events).isEqualTo(1);
    }

    @Test
    void aFrozenRedisRefusesPushesWhileFrozenAndAfterwardsEveryAcknowledgedPushArrivesOnceInOrder() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(GRACE));
        Player player = new Player("frozen", List.of(one.tcp(), two.tcp()));
        Pusher pushes = new Pusher(player);
        pushes.awaitAcknowledged(20);

        long refusedBefore = pushes.refused.get();
        int acknowledgedBefore = pushes.acknowledgedCount();
        redis.server().pause();
        try {
            Await.until(WAIT, "pushes refused while Redis is frozen", () -> pushes.refused.get() > refusedBefore);
        } finally {
            redis.server().resume();
        }
        // What the player sees: a pause in its pushes; then they go on, none twice, none out of order.
        pushes.awaitAcknowledged(30);
        assertThat(pushes.acknowledgedCount()).isGreaterThan(acknowledgedBefore);
        pushes.assertNoneSilentlyLost();
        player.assertEachSessionsPushesInOrderOnce();
        assertOneBoundSession(player.token);
        System.out.printf("frozen Redis: %d pushes acknowledged, %d refused; the player saw %s%n",
                pushes.acknowledgedCount(), pushes.refused.get(), player.events.stream().map(ClientEvent::type).toList());
    }
}
