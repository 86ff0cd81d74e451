package io.braid.pubsub;

import io.braid.api.Pubsub;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisErrors;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The contract on Redis, standalone or Cluster. Members are {@link RedisPubsub}s on connectors of
 * their own; what the API does not show is read straight from Redis through another connector.
 */
abstract class RedisPubsubContract extends PubsubContract {
    static final int BATCH_SIZE = 64;

    private final AtomicInteger members = new AtomicInteger();
    private volatile RedisPubsub trimmer;
    private RedisConnector inspector;

    /** A new connector to the test's Redis; the caller closes it. */
    protected abstract RedisConnector connect();

    @Override
    protected Pubsub newMember() {
        RedisConnector connector = closeAfterMembers(connect());
        return RedisPubsub.builder(connector).consumerName("member-" + members.incrementAndGet())
                .batchSize(BATCH_SIZE).build();
    }

    /** A connector of the test's own, to look at Redis without going through a member. */
    protected final RedisConnector inspector() {
        if (inspector == null) {
            inspector = closeAfterMembers(connect());
        }
        return inspector;
    }

    @Override
    protected long trim() {
        if (trimmer == null) {
            trimmer = (RedisPubsub) member(); // one member trims, as the runtime's leader does
        }
        return trimmer.trim();
    }

    @Override
    protected long pendingCount(String topic, String channel) {
        try {
            return inspector().async().xpending(RedisPubsub.streamKey(topic), channel).get(5, TimeUnit.SECONDS)
                    .getCount();
        } catch (ExecutionException e) {
            if (RedisErrors.is(e, RedisErrors.NOGROUP)) {
                return 0;
            }
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Set<String> channels(String topic) {
        try {
            Set<String> names = new HashSet<>();
            for (Object group : inspector().async().xinfoGroups(RedisPubsub.streamKey(topic)).get(5, TimeUnit.SECONDS)) {
                Map<String, Object> fields = StreamChannel.pairs((List<?>) group);
                names.add(String.valueOf(fields.get("name")));
            }
            return names;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected long storedCount(String topic) {
        try {
            return inspector().async().xlen(RedisPubsub.streamKey(topic)).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every server the test's members may have connected to. */
    protected abstract List<RedisServer> servers();

    @Override
    protected void assertNothingLeftBehind() {
        for (RedisServer server : servers()) {
            if (!server.isRunning()) {
                continue;
            }
            try (RedisProbe probe = server.probe()) {
                Await.until(Duration.ofSeconds(5), () -> "only the probe connected to " + server.uri() + ", but: "
                        + probe.command("CLIENT", "LIST"), () -> clients(probe) == 1);
            }
        }
    }

    private static long clients(RedisProbe probe) {
        return String.valueOf(probe.command("CLIENT", "LIST")).lines().filter(line -> !line.isBlank()).count();
    }

    @Override
    protected long takenBound(int concurrency) {
        return BATCH_SIZE + concurrency; // one read of a batch, plus what the handlers hold
    }
}
