package io.braid.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisSentinel;
import io.braid.testkit.RedisServer;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connector on {@code redis-sentinel://} follows the master the Sentinels choose: every one of its
 * connections (commands, binary, pub/sub) moves to the promoted replica as soon as a failover is
 * announced, not when the Sentinels get round to demoting the old master (10–20 s later, while it
 * keeps taking writes that its demotion throws away).
 */
class RedisConnectorSentinelTest {
    /** Well below the 10-20 s the Sentinels take to demote a running old master. */
    private static final Duration FOLLOW_BOUND = Duration.ofSeconds(3);

    private RedisSentinel sentinel;
    private RedisConnector connector;

    @BeforeEach
    void start() {
        sentinel = RedisSentinel.start();
        connector = RedisConnector.connect(sentinel.uri(), Duration.ofSeconds(2));
    }

    @AfterEach
    void close() {
        connector.close();
        sentinel.close();
    }

    @Test
    void everyConnectionMovesToTheNewMasterAsSoonAsAManualFailoverIsAnnouncedAndNothingWrittenAfterIsLost()
            throws Exception {
        connector.async().set("before", "1").get(2, TimeUnit.SECONDS);
        StatefulConnection<String, byte[]> binary = connector.newBinaryConnection();
        RedisConnector.binaryCommands(binary).set("binary-before", "1".getBytes(StandardCharsets.UTF_8)).get(2, TimeUnit.SECONDS);
        Set<String> heard = ConcurrentHashMap.newKeySet();
        StatefulRedisPubSubConnection<String, String> pubSub = connector.newPubSub();
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                heard.add(message);
            }
        });
        pubSub.sync().subscribe("events");
        try (RedisProbe probe = sentinel.master().probe()) {
            assertThat(probe.command("WAIT", "1", "5000")).isEqualTo(1L);
        }

        RedisServer old = sentinel.master();
        long start = System.nanoTime();
        RedisServer promoted = sentinel.failover();
        long announced = System.nanoTime();
        assertThat(old.isRunning()).as("the old master still runs, not yet demoted").isTrue();

        Await.until(FOLLOW_BOUND, "the command connection writes to the promoted master",
                () -> writesReach(promoted, "after", () -> connector.async().set("after", "2").get(1, TimeUnit.SECONDS)));
        Await.until(FOLLOW_BOUND, "the binary connection writes to the promoted master", () -> writesReach(promoted,
                "binary-after", () -> RedisConnector.binaryCommands(binary)
                        .set("binary-after", "2".getBytes(StandardCharsets.UTF_8)).get(1, TimeUnit.SECONDS)));
        Await.until(FOLLOW_BOUND, "the pub/sub connection hears the promoted master", () -> {
            try (RedisProbe probe = promoted.probe()) {
                probe.command("PUBLISH", "events", "from-promoted");
            }
            return heard.contains("from-promoted");
        });
        System.out.printf("SENTINEL FAILOVER announced after %d ms; every connection on the new master %d ms later%n",
                (announced - start) / 1_000_000, (System.nanoTime() - announced) / 1_000_000);

        // Every write acknowledged from now on must survive the demotion of the old master.
        for (int i = 0; i < 50; i++) {
            connector.async().set("survivor-" + i, "x").get(2, TimeUnit.SECONDS);
        }
        sentinel.awaitHealthy(); // the old master is demoted: what it took meanwhile is gone
        assertThat(sentinel.replica()).isSameAs(old);
        try (RedisProbe probe = promoted.probe()) {
            for (int i = 0; i < 50; i++) {
                assertThat(probe.command("GET", "survivor-" + i)).as("survivor-" + i).isEqualTo("x");
            }
            assertThat(probe.command("GET", "before")).isEqualTo("1");
        }
        assertThat(connector.async().get("survivor-0").get(2, TimeUnit.SECONDS)).isEqualTo("x");
        binary.close();
        pubSub.close();
    }

    @Test
    void aWriterRunningThroughAManualFailoverLosesNoAcknowledgedWrite() throws Exception {
        List<Integer> acknowledged = new CopyOnWriteArrayList<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 0; running.get(); i++) {
                try {
                    connector.async().set("w-" + i, Integer.toString(i)).get(2, TimeUnit.SECONDS);
                    acknowledged.add(i);
                } catch (Exception e) {
                    failed.incrementAndGet();
                }
            }
        });
        Await.until(Duration.ofSeconds(5), "writes going on", () -> acknowledged.size() >= 100);
        RedisServer old = sentinel.master();
        RedisServer promoted = sentinel.failover();
        int atAnnouncement = acknowledged.size();
        Await.until(Duration.ofSeconds(5), "writes going on after the failover", () -> acknowledged.size() >= atAnnouncement + 100);
        sentinel.awaitHealthy(); // the old master is demoted: whatever it took after the promotion is gone
        running.set(false);
        writer.join(Duration.ofSeconds(10));
        assertThat(sentinel.replica()).isSameAs(old);

        List<Integer> lost = new ArrayList<>();
        try (RedisProbe probe = promoted.probe()) {
            for (int i : acknowledged) {
                if (!Integer.toString(i).equals(probe.command("GET", "w-" + i))) {
                    lost.add(i);
                }
            }
        }
        System.out.printf("a writer through SENTINEL FAILOVER: %d writes acknowledged, %d failed, %d lost%n",
                acknowledged.size(), failed.get(), lost.size());
        assertThat(lost).as("acknowledged writes missing on the new master (of " + acknowledged.size() + ")").isEmpty();
    }

    @Test
    void aKilledMasterIsFollowedToThePromotedReplica() throws Exception {
        connector.async().set("before", "1").get(2, TimeUnit.SECONDS);
        long start = System.nanoTime();
        RedisServer promoted = sentinel.killMaster();
        long announced = System.nanoTime();
        Await.until(Duration.ofSeconds(5), "the connector writes to the promoted master",
                () -> writesReach(promoted, "after", () -> connector.async().set("after", "2").get(1, TimeUnit.SECONDS)));
        System.out.printf("kill -9: promotion announced after %d ms; the connector writes there %d ms later%n",
                (announced - start) / 1_000_000, (System.nanoTime() - announced) / 1_000_000);
        assertThat(connector.async().get("before").get(2, TimeUnit.SECONDS)).isEqualTo("1");
    }

    @Test
    void closingStopsWatchingTheSentinels() {
        assertThat(watchThreads()).isNotEmpty();
        connector.close();
        connector.close();
        Await.until(Duration.ofSeconds(5), "the watch's thread ends", () -> watchThreads().isEmpty());
    }

    @Test
    void noSentinelAnsweringIsUnavailableNamingTheSentinels() {
        String uri = sentinel.uri();
        sentinel.close();
        assertThatThrownBy(() -> RedisConnector.connect(uri, Duration.ofMillis(500)))
                .isInstanceOfSatisfying(BraidException.class,
                        e -> assertThat(e.code()).isEqualTo(Code.UNAVAILABLE))
                .hasMessageContaining("Sentinels");
    }

    private static List<Thread> watchThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith("braid-redis-sentinel-")).toList();
    }

    /** Whether a write through the connector succeeds and the node {@code node} has it. */
    private static boolean writesReach(RedisServer node, String key, Write write) {
        try {
            write.run();
        } catch (Exception e) {
            return false;
        }
        try (RedisProbe probe = node.probe()) {
            return probe.command("GET", key) != null;
        }
    }

    private interface Write {
        void run() throws Exception;
    }
}
