package io.braid.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that starts a {@link RedisServer} or a {@link RedisCluster} for a test class
 * and closes it afterwards.
 *
 * <pre>{@code
 * class RedisDiscoverTest {
 *     @RegisterExtension
 *     static final RedisExtension redis = RedisExtension.single();
 *
 *     @Test
 *     void registers() {
 *         String uri = redis.server().uri();   // redis://127.0.0.1:PORT
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #clustered()} makes a 3-master {@link RedisCluster} instead; {@link #cluster()} returns it.
 *
 * <p>In a {@code static} field the server starts before the first test of the class and is
 * closed after the last one; {@code @Nested} classes share it. In an instance field each test
 * gets its own server, closed after that test. Tests that kill or restart the server leave it in
 * that state for the tests after them; restart it in a {@code @BeforeEach} if that matters.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback {
    private final Supplier<RedisServer> serverFactory;
    private final Supplier<RedisCluster> clusterFactory;

    private RedisServer server;
    private RedisCluster cluster;
    /** The unique id of the context that started the resource: only its end closes it. */
    private String owner;

    private RedisExtension(Supplier<RedisServer> serverFactory, Supplier<RedisCluster> clusterFactory) {
        this.serverFactory = serverFactory;
        this.clusterFactory = clusterFactory;
    }

    /** One server without persistence, as {@link RedisServer#start()}. */
    public static RedisExtension single() {
        return new RedisExtension(RedisServer::start, null);
    }

    /**
     * One server started from {@code builder} (append-only mode, a password, extra arguments).
     * The builder is read when the server starts.
     */
    public static RedisExtension single(RedisServer.Builder builder) {
        Objects.requireNonNull(builder, "builder");
        return new RedisExtension(builder::start, null);
    }

    /**
     * A cluster of 3 masters without replicas, as {@link RedisCluster#start()}. (Named
     * {@code clustered} because {@link #cluster()} is the accessor.)
     */
    public static RedisExtension clustered() {
        return new RedisExtension(null, RedisCluster::start);
    }

    /** A cluster as {@link RedisCluster#start(int, int)}; arguments are checked when it starts. */
    public static RedisExtension clustered(int masters, int replicasPerMaster) {
        return new RedisExtension(null, () -> RedisCluster.start(masters, replicasPerMaster));
    }

    /**
     * A cluster as {@link RedisCluster#start(int, int, Duration)}: a shorter node timeout for tests
     * that kill masters. Arguments are checked when it starts.
     */
    public static RedisExtension clustered(int masters, int replicasPerMaster, Duration nodeTimeout) {
        Objects.requireNonNull(nodeTimeout, "nodeTimeout");
        return new RedisExtension(null, () -> RedisCluster.start(masters, replicasPerMaster, nodeTimeout));
    }

    /**
     * The server of the running test class.
     *
     * @throws IllegalStateException if this extension makes a cluster, or outside the tests it serves
     */
    public synchronized RedisServer server() {
        if (serverFactory == null) {
            throw new IllegalStateException("this RedisExtension runs a cluster; use cluster()");
        }
        if (server == null) {
            throw new IllegalStateException("no server: RedisExtension starts it before the tests of its class "
                    + "(register it with @RegisterExtension)");
        }
        return server;
    }

    /**
     * The cluster of the running test class.
     *
     * @throws IllegalStateException if this extension makes a single server, or outside the tests it serves
     */
    public synchronized RedisCluster cluster() {
        if (clusterFactory == null) {
            throw new IllegalStateException("this RedisExtension runs a single server; use server()");
        }
        if (cluster == null) {
            throw new IllegalStateException("no cluster: RedisExtension starts it before the tests of its class "
                    + "(register it with @RegisterExtension)");
        }
        return cluster;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        startIfNeeded(context);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        startIfNeeded(context); // only starts when registered in an instance field
    }

    @Override
    public void afterEach(ExtensionContext context) {
        closeIfOwner(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        closeIfOwner(context);
    }

    private synchronized void startIfNeeded(ExtensionContext context) {
        if (owner != null) {
            return;
        }
        if (serverFactory != null) {
            server = serverFactory.get();
        } else {
            cluster = clusterFactory.get();
        }
        owner = context.getUniqueId();
    }

    private synchronized void closeIfOwner(ExtensionContext context) {
        if (!context.getUniqueId().equals(owner)) {
            return;
        }
        owner = null;
        try {
            if (server != null) {
                server.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        } finally {
            server = null;
            cluster = null;
        }
    }
}
