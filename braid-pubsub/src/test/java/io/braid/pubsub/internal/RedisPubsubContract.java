package io.braid.pubsub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.ChannelOptions;
import io.braid.api.Pubsub;
import io.braid.api.Topic;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisErrors;
import io.braid.testkit.Await;
import io.braid.testkit.RedisProbe;
import io.braid.testkit.RedisServer;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

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

    /** What a child JVM connects to: a URI, or a Cluster's URIs joined by commas. */
    protected abstract String childUri();

    /** A member with settings of its own, closed with the others. */
    protected final RedisPubsub member(java.util.function.UnaryOperator<RedisPubsub.Builder> settings) {
        RedisConnector connector = closeAfterMembers(connect());
        return adopt(settings.apply(RedisPubsub.builder(connector)
                .consumerName("member-" + members.incrementAndGet()).batchSize(BATCH_SIZE)).build());
    }

    /**
     * A node's ephemeral channel whose JVM is killed -9 never closes, so its group would pin the
     * topic's trim forever: the leader's trim removes it once it went unmarked for its idle limit,
     * and then trims. Ephemeral channels of live nodes stay however quiet (no handler at all) or
     * busy (a handler blocked past the limit, so its consumer reads nothing); durable ones always stay.
     */
    @Test
    void theLeaderRemovesTheEphemeralChannelOfACrashedNodeAfterItsIdleLimit() throws Exception {
        Duration limit = Duration.ofSeconds(3);
        // Live channels on another topic: one without a handler, one whose handler is stuck.
        RedisPubsub live = member(b -> b.ephemeralIdleLimit(limit));
        ChannelOptions ephemeral = ChannelOptions.DEFAULT.withDurable(false);
        Topic lobby = live.topic("lobby");
        lobby.subscribe("quiet-node", ephemeral);
        CountDownLatch release = gate();
        CountDownLatch stuck = new CountDownLatch(1);
        lobby.subscribe("busy-node", ephemeral).onMessage(message -> {
            stuck.countDown();
            release.await();
        });
        lobby.subscribe("archive").close(); // durable, no consumer left, never marked
        publish(lobby, "hello");
        until("the busy channel's handler is stuck", () -> stuck.getCount() == 0);
        long stuckAt = System.nanoTime(); // its consumer reads nothing from now on

        Topic rooms = member().topic("rooms");
        Received audit = new Received();
        rooms.subscribe("audit").onMessage(audit);
        Set<String> childHandled = ConcurrentHashMap.newKeySet();
        ChildConsumer child = ChildConsumer.start(childUri(), "rooms", "crashed-node", 1, "ack",
                line -> childHandled.add(line.substring(2)), Long.toString(limit.toMillis()));
        try {
            publishAll(rooms, "a", 10);
            until("both channels handled and acknowledged the first ten", () -> audit.size() == 10
                    && childHandled.size() == 10 && pendingCount("rooms", "crashed-node") == 0
                    && pendingCount("rooms", "audit") == 0);
        } finally {
            child.kill();
        }
        long killed = System.nanoTime();
        publishAll(rooms, "b", 10);
        until("the audit channel acknowledged the next ten", () -> audit.size() == 20
                && pendingCount("rooms", "audit") == 0);

        // While its group is there it pins the topic at the first ten it was given.
        AtomicLong trimmedWhilePinned = new AtomicLong();
        until("the crashed node's channel removed", () -> {
            long trimmed = trim();
            if (channels("rooms").contains("crashed-node")) {
                trimmedWhilePinned.addAndGet(trimmed);
                assertThat(storedCount("rooms")).as("messages kept for the crashed node's channel").isEqualTo(10);
                return false;
            }
            return true;
        });
        Duration gone = Duration.ofNanos(System.nanoTime() - killed);
        assertThat(gone).as("time from the kill to the removal").isGreaterThanOrEqualTo(limit.multipliedBy(3).dividedBy(4));
        assertThat(trimmedWhilePinned.get()).isEqualTo(10);
        until("the rest trimmed once the channel is gone", () -> {
            trim();
            return storedCount("rooms") == 0;
        });
        assertThat(channels("rooms")).containsExactly("audit");

        Await.until(WAIT, "the busy channel's consumer idle for longer than the limit",
                () -> Duration.ofNanos(System.nanoTime() - stuckAt).compareTo(limit.plusMillis(500)) > 0);
        trim();
        assertThat(channels("lobby")).as("live ephemeral channels and a durable one, after more than the limit")
                .containsExactlyInAnyOrder("quiet-node", "busy-node", "archive");
        release.countDown();
        live.close();
        assertThat(channels("lobby")).as("ephemeral channels closed normally").containsExactly("archive");
        assertThat(inspector().async().hlen(RedisPubsub.ephemeralKey("lobby")).get(5, TimeUnit.SECONDS))
                .as("marks left of closed ephemeral channels").isZero();
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
