package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Write-through players on one real Redis survive a kill -9 of their node: a logic node in a child
 * JVM serves clicks (each saved to the Redis store under the player's epoch before it answers), is
 * killed with SIGKILL, and the node that takes its players over activates them from the store:
 * every click a player was told about is still counted.
 */
class RedisPlayerSavingTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private final List<Braid> nodes = new ArrayList<>();
    private Process child;

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (child != null) {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        nodes.reversed().forEach(Braid::close);
    }

    private Braid node(Braid.Builder builder) {
        Braid node = builder.redis(redis.server().uri()).heartbeat(Duration.ofMillis(500), Duration.ofSeconds(3))
                .ioThreads(1).start();
        nodes.add(node);
        return node;
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke(PlayerNodeProcess.SERVICE, PlayerNodeProcess.CLICK, token, StringValue.of(""),
                Int64Value.parser(), TIMEOUT).join().getValue();
    }

    @Test
    void writeThroughPlayersOfANodeKilledWithSigkillComeBackFromTheStoreWithEveryToldClick() throws Exception {
        child = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), PlayerNodeProcess.class.getName(),
                redis.server().uri(), "logic-child").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                in.lines().forEach(lines::add);
            } catch (Exception ignored) {
                // the child died
            }
        });
        Await.until(Duration.ofSeconds(30), "the child node is up", () -> lines.contains("READY"));
        Braid gateway = node(Braid.builder().service("gateway").nodeId("gateway-1"));
        Await.until(Duration.ofSeconds(10), "the gateway sees the child",
                () -> gateway.discover().nodes(PlayerNodeProcess.SERVICE).size() == 1);

        Map<String, Long> told = new LinkedHashMap<>();
        for (int p = 0; p < 10; p++) {
            String token = "player-" + p;
            for (int i = 0; i <= p; i++) {
                told.put(token, click(gateway, token));
            }
        }
        assertThat(told.get("player-9")).isEqualTo(10);

        child.destroyForcibly(); // SIGKILL: nothing is saved on the way out
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        Braid survivor = node(Braid.builder().service(PlayerNodeProcess.SERVICE).nodeId("logic-survivor")
                .players(PlayerNodeProcess.counters()));
        Await.until(Duration.ofSeconds(15), "the gateway lists only the survivor", () -> gateway.discover()
                .nodes(PlayerNodeProcess.SERVICE).stream().allMatch(n -> n.id().equals(survivor.node().id())));

        for (Map.Entry<String, Long> player : told.entrySet()) {
            long[] answer = new long[1];
            Await.until(Duration.ofSeconds(15), player.getKey() + " is served again", () -> {
                try {
                    answer[0] = click(gateway, player.getKey());
                    return true;
                } catch (CompletionException refusedWhileTheDeadOwnerIsCleared) {
                    return false;
                }
            });
            assertThat(answer[0]).as("%s: every click it was told about, and this one", player.getKey())
                    .isEqualTo(player.getValue() + 1);
        }
    }
}
