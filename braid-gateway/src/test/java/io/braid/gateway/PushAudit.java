package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.testkit.Await;
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

/**
 * What the fault tests check of a player's pushes: a {@link Player} (a GatewayClient recording its
 * events and pushes in order) and a {@link Pusher} (a logic node pushing a new payload every few ms,
 * remembering each acknowledged one). One clock stamps acknowledgements and relogins, to tell a push
 * silently lost from one the player learnt it lost (it logged in afresh after it was acknowledged).
 */
final class PushAudit {
    static final Duration WAIT = Duration.ofSeconds(15);

    private PushAudit() {
    }

    /** One session of {@code token} bound (BOUND or RESUMED events minus ends and resumes: one), its link set. */
    static void assertOneBoundSession(GatewayFixture cluster, String token) {
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

    /** A player's GatewayClient and what it saw, in order: events and pushes, each stamped by {@link #clock}. */
    static final class Player {
        final String token;
        final GatewayClient client;
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<ClientEvent> events = new CopyOnWriteArrayList<>();
        final Set<String> payloads = ConcurrentHashMap.newKeySet();
        volatile long lastRelogAt = -1;

        private final AtomicLong clock;

        Player(String name, List<InetSocketAddress> addresses, AtomicLong clock, List<AutoCloseable> toClose) {
            this.clock = clock;
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
    static final class Pusher implements AutoCloseable {
        final Player player;
        final AtomicBoolean running = new AtomicBoolean(true);
        /** Acknowledged payload with the clock when it was acknowledged. */
        final List<long[]> acknowledged = new CopyOnWriteArrayList<>();
        final AtomicLong refused = new AtomicLong();
        final Thread thread;

        Pusher(Player player, GatewayFixture cluster, AtomicLong clock, List<AutoCloseable> toClose) {
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

}
