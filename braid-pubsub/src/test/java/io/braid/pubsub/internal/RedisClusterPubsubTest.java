package io.braid.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Topic;
import io.braid.redis.RedisConnector;
import io.braid.testkit.RedisExtension;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The contract on a 3-master Redis Cluster: a topic's stream and dead letters share one slot. */
class RedisClusterPubsubTest extends RedisPubsubContract {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.clustered();

    @BeforeEach
    void emptyRedis() {
        redis.cluster().flushAll();
    }

    @Override
    protected RedisConnector connect() {
        return RedisConnector.connectCluster(redis.cluster().uris());
    }

    @Override
    protected String childUri() {
        return String.join(",", redis.cluster().uris());
    }

    @Override
    protected List<RedisServer> servers() {
        return redis.cluster().nodes();
    }

    @Test
    void topicsSpreadOverTheMastersAndTrimFindsThemAll() {
        int topics = 12;
        for (int i = 0; i < topics; i++) {
            Topic topic = member().topic("zone-" + i);
            topic.subscribe("log").onMessage(new Received());
            publishAll(topic, "z", 3);
        }
        for (int i = 0; i < topics; i++) {
            String name = "zone-" + i;
            until("zone messages acknowledged", () -> pendingCount(name, "log") == 0 && storedCount(name) == 3);
        }

        int mastersWithStreams = 0;
        for (RedisServer node : redis.cluster().nodes()) {
            try (RedisProbe probe = node.probe()) {
                if (((Long) probe.command("DBSIZE")) > 0) {
                    mastersWithStreams++;
                }
            }
        }
        assertThat(mastersWithStreams).isGreaterThan(1);
        assertThat(trim()).isEqualTo(3L * topics);
    }
}
