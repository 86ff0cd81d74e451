package io.braid.runtime;

import static io.braid.runtime.PlayerViewApiTest.events;
import static io.braid.runtime.PlayerViewApiTest.fields;
import static org.assertj.core.api.Assertions.assertThat;

import io.braid.monitor.MonitorOptions;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis lost and back on the timeline: a node whose Redis server is killed records REDIS_DOWN (its
 * registration unconfirmed for its fence window) and its self-fence closing, and, once the server is
 * restarted, REDIS_BACK with how long it was lost and its fence opening again; the node's own
 * monitor answers {@code /api/timeline} throughout, Redis down included.
 */
class RedisTimelineTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration TTL = Duration.ofMillis(900);

    @Test
    void redisKilledAndRestartedShowsAnOutageAndItsEnd() {
        if (!redis.server().isRunning()) {
            redis.server().restart();
        }
        redis.server().flushAll();
        try (Braid logic = Braid.builder().service("logic").nodeId("logic-1").ioThreads(1)
                .redis(redis.server().uri()).heartbeat(HEARTBEAT, TTL).monitor(MonitorOptions.port(0)).start()) {
            Await.until(Duration.ofSeconds(5), "logic registered", () -> logic.discover().nodes("logic").size() == 1);
            Await.until(Duration.ofSeconds(5), "logic's join on the timeline", () -> events(logic, "?kind=JOINED").stream()
                    .anyMatch(e -> "logic-1".equals(e.get("node"))));
            assertThat(events(logic, "?kind=REDIS_DOWN,REDIS_BACK")).isEmpty();

            long killedAt = System.currentTimeMillis();
            redis.server().kill();
            Await.until(Duration.ofSeconds(10), "the outage on the timeline", () -> events(logic, "?kind=REDIS_DOWN").size() == 1);
            Map<String, Object> down = events(logic, "?kind=REDIS_DOWN").getFirst();
            assertThat(((Number) down.get("at")).longValue()).isGreaterThanOrEqualTo(killedAt);
            assertThat(Long.parseLong(String.valueOf(fields(down).get("sinceConfirmedMs"))))
                    .isGreaterThanOrEqualTo(SelfFence.window(TTL).toMillis());
            Await.until(Duration.ofSeconds(10), "the fence closing on the timeline",
                    () -> !events(logic, "?kind=FENCE_CLOSED").isEmpty());

            redis.server().restart();
            Await.until(Duration.ofSeconds(15), "Redis back on the timeline", () -> events(logic, "?kind=REDIS_BACK").size() == 1);
            Map<String, Object> back = events(logic, "?kind=REDIS_BACK").getFirst();
            assertThat(Long.parseLong(String.valueOf(fields(back).get("downMs")))).isPositive();
            assertThat((String) back.get("text")).contains("reaches Redis again after");
            Await.until(Duration.ofSeconds(15), "the fence opening on the timeline",
                    () -> !events(logic, "?kind=FENCE_OPENED").isEmpty());
            List<Map<String, Object>> outage = events(logic, "?kind=REDIS_DOWN,REDIS_BACK,FENCE_CLOSED,FENCE_OPENED")
                    .reversed();
            assertThat(outage).extracting(e -> e.get("kind")).as("oldest first")
                    .containsSubsequence("REDIS_DOWN", "REDIS_BACK").containsSubsequence("FENCE_CLOSED", "FENCE_OPENED");
            assertThat(events(logic, "?kind=REDIS_DOWN")).as("one outage, told once").hasSize(1);
        }
    }
}
