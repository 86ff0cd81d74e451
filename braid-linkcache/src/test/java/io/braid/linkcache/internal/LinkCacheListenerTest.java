package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkCacheListener;
import io.braid.redis.RedisConnector;
import io.braid.testkit.Await;
import io.braid.testkit.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How each link cache tells its listener the way a lookup was answered, and its relinks. */
class LinkCacheListenerTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static final Node LOGIC_1 = Node.of("logic-1", "logic", "127.0.0.1", 9001, 100);
    private static final Node LOGIC_2 = Node.of("logic-2", "logic", "127.0.0.1", 9002, 100);

    /** Records "service outcome" for lookups and "service relink" for relinks. */
    static final class Heard implements LinkCacheListener {
        final List<String> events = new CopyOnWriteArrayList<>();

        @Override
        public void lookup(String service, Outcome outcome) {
            events.add(service + " " + outcome);
        }

        @Override
        public void relinked(String service) {
            events.add(service + " relink");
        }
    }

    @BeforeEach
    void emptyRedis() {
        redis.server().flushAll();
    }

    @Test
    void redisTellsNearHitsRedisHitsMissesAndRelinks() {
        Heard heard = new Heard();
        try (RedisConnector connector = RedisConnector.connect(redis.server().uri());
             LinkCache links = RedisLinkCache.builder(connector).listener(heard).build();
             LinkCache elsewhere = RedisLinkCache.builder(connector).build()) {
            assertThat(links.target("p1", "logic")).isEmpty();
            elsewhere.link("p1", LOGIC_1); // linked by another process: not in this near cache
            // From Redis, then cached. The other cache's link sends an invalidation that may land
            // while this read is under way; the read is then not cached (it may be older than the
            // change), and the next one reads Redis again: so a NEAR_HIT follows one or more REDIS_HITs.
            Await.until(Duration.ofSeconds(10), "a near hit", () -> {
                assertThat(links.target("p1", "logic")).contains("logic-1");
                return heard.events.contains("logic NEAR_HIT");
            });
            links.relink("p1", LOGIC_2);
            List<String> events = List.copyOf(heard.events);
            assertThat(events.get(0)).isEqualTo("logic MISS");
            assertThat(events.subList(1, events.size() - 2)).isNotEmpty().containsOnly("logic REDIS_HIT");
            assertThat(events.subList(events.size() - 2, events.size())).containsExactly("logic NEAR_HIT", "logic relink");
        }
    }

    @Test
    void withoutANearCacheEveryHitIsARedisHit() {
        Heard heard = new Heard();
        try (RedisConnector connector = RedisConnector.connect(redis.server().uri());
             LinkCache links = RedisLinkCache.builder(connector).nearCache(false).listener(heard).build()) {
            links.link("p2", LOGIC_1);
            links.target("p2", "logic");
            links.target("p2", "logic");
            assertThat(heard.events).containsExactly("logic REDIS_HIT", "logic REDIS_HIT");
        }
    }

    @Test
    void inMemoryAnswersFromMemory() {
        Heard heard = new Heard();
        InMemoryLinks shared = new InMemoryLinks();
        try (LinkCache links = new InMemoryLinkCache(shared, heard)) {
            assertThat(links.target("p3", "logic")).isEmpty();
            links.link("p3", LOGIC_1);
            assertThat(links.target("p3", "logic")).contains("logic-1");
            links.relink("p3", LOGIC_2);
            assertThat(heard.events).containsExactly("logic MISS", "logic NEAR_HIT", "logic relink");
        }
    }
}
