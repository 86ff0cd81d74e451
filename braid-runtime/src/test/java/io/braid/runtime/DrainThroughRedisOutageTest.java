package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.NodeState;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A drain outlives a Redis outage: a link count that cannot be read is not "no players left", so
 * the node keeps waiting for its players instead of closing under them. Its own append-only
 * server, which the test kills and restarts with the links intact.
 */
class DrainThroughRedisOutageTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single(RedisServer.builder().appendOnly(true));

    private final Deque<Braid> nodes = new ArrayDeque<>();

    @BeforeEach
    void emptyRedis() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        redis.server().flushAll();
    }

    @AfterEach
    void closeNodes() {
        while (!nodes.isEmpty()) {
            nodes.pop().close();
        }
    }

    @Test
    void aDrainKeepsWaitingForItsPlayersWhileRedisIsDown() {
        Braid draining = logic("logic-1");
        logic("logic-2");
        Braid gateway = node(Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1)
                .redis(redis.server().uri()));
        Await.until(StickyRoutingContract.VIEW_CHANGE, "the gateway sees both logic nodes",
                () -> gateway.discover().nodes(StickyRoutingContract.LOGIC).size() == 2);
        Map<String, String> owners = new LinkedHashMap<>();
        for (String token : StickyRoutingContract.tokens("player", 10)) {
            owners.put(token, StickyRoutingContract.call(gateway, token));
        }
        List<String> itsTokens = owners.entrySet().stream().filter(e -> e.getValue().equals("logic-1"))
                .map(Map.Entry::getKey).toList();
        assertThat(itsTokens).hasSize(5);

        CompletableFuture<Void> drained = draining.drain();
        Await.until(StickyRoutingContract.VIEW_CHANGE, "the gateway sees logic-1 DRAINING",
                () -> gateway.discover().nodes(StickyRoutingContract.LOGIC).stream()
                        .anyMatch(n -> n.id().equals("logic-1") && n.state() == NodeState.DRAINING));

        redis.server().kill();
        assertThat(Await.poll(Duration.ofSeconds(2), drained::isDone))
                .as("the drain ended while Redis was down and 5 players were still linked").isFalse();
        redis.server().restart(); // append-only: the links are back
        Await.until(Duration.ofSeconds(10), "the gateway reads logic-1's 5 links once Redis is back",
                () -> gateway.linkCache().linkCount("logic-1") == 5);
        assertThat(drained).as("drain while its players are still linked").isNotDone();

        for (String token : itsTokens) {
            assertThat(gateway.linkCache().unlink(token)).as("links of %s removed", token).isEqualTo(1);
        }
        Await.until(Duration.ofSeconds(5), "the drain completes once its players have left", drained::isDone);
    }

    private Braid logic(String id) {
        return node(Braid.builder().service(StickyRoutingContract.LOGIC).nodeId(id).ioThreads(1)
                .redis(redis.server().uri()).drainTimeout(Duration.ofSeconds(60))
                .handle(StickyRoutingContract.WHERE, StringValue.parser(), (ctx, request) -> StringValue.of(id)));
    }

    private Braid node(Braid.Builder settings) {
        Braid node = settings.start();
        nodes.push(node);
        return node;
    }
}
