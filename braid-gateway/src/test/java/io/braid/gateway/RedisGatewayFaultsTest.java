package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.client.ClientEvent;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.TcpProxy;
import io.braid.gateway.PushAudit.Player;
import io.braid.gateway.PushAudit.Pusher;
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

    private Player player(String name, List<InetSocketAddress> addresses) {
        return new Player(name, addresses, clock, toClose);
    }

    private Pusher pusher(Player player) {
        return new Pusher(player, cluster, clock, toClose);
    }

    private TcpProxy proxy(InetSocketAddress target) {
        TcpProxy proxy = TcpProxy.to(target);
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

    enum DataLoss { FLUSHALL, RESTART_EMPTY }

    @ParameterizedTest
    @EnumSource(DataLoss.class)
    void whenRedisLosesItsDataEverySessionEndsWithAClearReasonAndItsPlayerLogsInAfreshAndGoesOn(DataLoss fault) {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(GRACE));
        Player attached = player("attached", List.of(one.tcp(), two.tcp()));
        TcpProxy toTwo = proxy(two.tcp());
        Player detached = player("detached", List.of(toTwo.address()));
        Pusher pushes = pusher(attached);
        pushes.awaitAcknowledged(20);
        assertThat(pushWhenReachable(detached.token, "d1")).isEqualTo(1);
        Await.until(WAIT, "d1 delivered", () -> detached.payloads.contains("d1"));
        toTwo.refuse(true);
        toTwo.closeAll();
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
        toTwo.closeAll();
        detached.awaitEvents(ClientEvent.Type.DISCONNECTED, 2);
        assertThat(pushWhenReachable(detached.token, "d4")).isEqualTo(2);
        toTwo.refuse(false);
        detached.awaitEvents(ClientEvent.Type.RESUMED, 1);
        Await.until(WAIT, "d4 replayed", () -> detached.payloads.contains("d4"));

        pushes.assertNoneSilentlyLost();
        attached.assertEachSessionsPushesInOrderOnce();
        detached.assertEachSessionsPushesInOrderOnce();
        PushAudit.assertOneBoundSession(cluster, attached.token);
        PushAudit.assertOneBoundSession(cluster, detached.token);
        assertThat(attached.count(ClientEvent.Type.RELOGGED)).as("one relogin: %s", attached.events).isEqualTo(1);
    }

    @Test
    void whenRedisComesBackWithoutItsLastWritesThePlayerLogsInAfreshInsteadOfMissingPushesSilently() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(GRACE));
        Player player = player("rewound", List.of(one.tcp(), two.tcp()));
        Pusher pushes = pusher(player);
        pushes.awaitAcknowledged(10);
        // A snapshot now, then more pushes acknowledged, then a crash: Redis comes back with the
        // snapshot, as after a failover to a replica that lagged behind. The record's last seq went back.
        try (var probe = redis.server().probe()) {
            probe.command("SAVE");
        }
        pushes.awaitAcknowledged(15);
        redis.server().kill();
        redis.server().restart();

        // What the player sees: it logs in afresh (it learns the pushes after the snapshot are gone);
        // it never sees a seq twice nor misses an acknowledged push without that relogin.
        player.awaitEvents(ClientEvent.Type.RELOGGED, 1);
        pushes.awaitAcknowledged(20);
        pushes.assertNoneSilentlyLost();
        player.assertEachSessionsPushesInOrderOnce();
        PushAudit.assertOneBoundSession(cluster, player.token);
        System.out.printf("Redis rewound: %d pushes acknowledged, %d refused; the player saw %s; gateway events %s%n",
                pushes.acknowledgedCount(), pushes.refused.get(), player.events.stream().map(ClientEvent::type).toList(),
                cluster.eventsOf(player.token).stream().map(event -> event.type() + " " + event.reason()).toList());
    }

    @Test
    void aFrozenRedisRefusesPushesWhileFrozenAndAfterwardsEveryAcknowledgedPushArrivesOnceInOrder() {
        GatewayFixture.GatewayNode one = cluster.gateway("gateway-1", builder -> builder.resumeGrace(GRACE));
        GatewayFixture.GatewayNode two = cluster.gateway("gateway-2", builder -> builder.resumeGrace(GRACE));
        Player player = player("frozen", List.of(one.tcp(), two.tcp()));
        Pusher pushes = pusher(player);
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
        PushAudit.assertOneBoundSession(cluster, player.token);
        System.out.printf("frozen Redis: %d pushes acknowledged, %d refused; the player saw %s%n",
                pushes.acknowledgedCount(), pushes.refused.get(), player.events.stream().map(ClientEvent::type).toList());
    }
}
