package io.braid.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import io.braid.testkit.RedisServer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A connector given the node's event loops does its Redis I/O on them (the node starts no Redis
 * I/O threads of its own), survives Redis going away and coming back on them, and leaves them
 * running when it closes: the node owns them.
 */
class RedisConnectorEventLoopsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private EventLoopGroup nodeLoops;
    private RedisServer redis;

    @BeforeEach
    void start() {
        nodeLoops = new NioEventLoopGroup(1, new DefaultThreadFactory("node-loop", true));
        redis = RedisServer.start();
    }

    @AfterEach
    void stop() {
        redis.close();
        nodeLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void redisRepliesArriveOnTheNodesLoopsAndClosingTheConnectorLeavesThemRunning() throws Exception {
        try (RedisConnector connector = RedisConnector.connect(redis.uri(), TIMEOUT, null, nodeLoops)) {
            assertThat(replyThread(connector)).startsWith("node-loop");
            assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                    .noneMatch(name -> name.startsWith("lettuce-nioEventLoop") || name.startsWith("lettuce-epollEventLoop"));
        }
        assertThat(nodeLoops.isShuttingDown()).as("the connector closed the node's loops").isFalse();
        assertThat(nodeLoops.submit(() -> "still running").get(1, TimeUnit.SECONDS)).isEqualTo("still running");
    }

    @Test
    void aConnectorOnTheNodesLoopsReconnectsAfterRedisRestarts() throws Exception {
        try (RedisConnector connector = RedisConnector.connect(redis.uri(), TIMEOUT, null, nodeLoops)) {
            connector.async().set("braid:loops", "before").get(2, TimeUnit.SECONDS);
            redis.kill();
            redis.restart();
            Await.until(Duration.ofSeconds(10), "a command succeeds after the restart", () -> {
                try {
                    connector.async().set("braid:loops", "after").get(1, TimeUnit.SECONDS);
                    return true;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    @Test
    void aClusterConnectorOnTheNodesLoopsServesCommandsOnThem() throws Exception {
        // One seed is enough to show the loops are used; the Cluster topology itself is tested elsewhere.
        try (io.braid.testkit.RedisCluster cluster = io.braid.testkit.RedisCluster.start();
             RedisConnector connector = RedisConnector.connectCluster(cluster.uris(), TIMEOUT, null, nodeLoops)) {
            assertThat(replyThread(connector)).startsWith("node-loop");
        }
        assertThat(nodeLoops.isShuttingDown()).isFalse();
    }

    /**
     * The thread a reply completes on. The command blocks on the server for a moment (BLPOP on an
     * empty list, 1 s), so the callback is in place before the reply arrives and runs where the
     * reply is read, not on the thread that registered it.
     */
    private static String replyThread(RedisConnector connector) throws Exception {
        return connector.async().blpop(1, "braid:loops:empty").thenApply(nothing -> Thread.currentThread().getName())
                .toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
}
