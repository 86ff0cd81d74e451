package io.braid.examples;

import io.braid.runtime.Braid;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The settings every braid node of the demo shares (control plane, identity, address), and how a
 * service runs as a process of its own: until SIGTERM or Ctrl-C, or, with
 * {@code --exit-on-stdin-eof}, until its standard input closes (so a test that dies takes its child
 * processes with it).
 */
public final class NodeSettings {
    public static final Setting REDIS = new Setting("--redis", "BRAID_REDIS_URI", null,
            "Redis URI (redis://, rediss://, redis-sentinel://); none: the in-memory control plane of this JVM");
    public static final Setting REDIS_CLUSTER = new Setting("--redis-cluster", "BRAID_REDIS_CLUSTER", null,
            "comma-separated seed URIs of a Redis Cluster (instead of --redis)");
    public static final Setting NODE_ID = new Setting("--node-id", "BRAID_NODE_ID", null,
            "this node's id, unique in the cluster; default <service>-<random>");
    public static final Setting HOST = new Setting("--host", "BRAID_HOST", "127.0.0.1",
            "the address other nodes reach this one at; 'auto' = this machine's address");
    public static final Setting BIND_HOST = new Setting("--bind-host", "BRAID_BIND_HOST", null,
            "the address the RPC server binds (0.0.0.0 in containers); default --host");
    public static final Setting PORT = new Setting("--port", "BRAID_SERVICE_PORT", "0",
            "the RPC port; 0 picks a free one");
    public static final Setting WEIGHT = new Setting("--weight", "BRAID_WEIGHT", "100",
            "share of new players under smooth weighted round robin");
    public static final Setting EXIT_ON_STDIN_EOF = new Setting("--exit-on-stdin-eof", "BRAID_EXIT_ON_STDIN_EOF", "false",
            "stop when standard input closes (for a parent process that owns this one)");

    /** The settings of a braid node, in the order {@code --help} prints them. */
    public static final List<Setting> ALL = List.of(REDIS, REDIS_CLUSTER, NODE_ID, HOST, BIND_HOST, PORT, WEIGHT,
            EXIT_ON_STDIN_EOF);

    private NodeSettings() {
    }

    /** A builder for a node of {@code service} with the control plane, identity and address of {@code settings}. */
    public static Braid.Builder builder(String service, Settings settings) {
        Braid.Builder builder = Braid.builder().service(service)
                .host(host(settings.get(HOST)))
                .rpcPort(settings.getInt(PORT, 0, 65_535))
                .weight(settings.getInt(WEIGHT, 0, 1_000_000));
        if (settings.has(NODE_ID)) {
            builder.nodeId(settings.get(NODE_ID));
        }
        if (settings.has(BIND_HOST)) {
            builder.bindHost(settings.get(BIND_HOST));
        }
        if (settings.has(REDIS) && settings.has(REDIS_CLUSTER)) {
            throw new IllegalArgumentException("give either --redis (BRAID_REDIS_URI) or --redis-cluster "
                    + "(BRAID_REDIS_CLUSTER), not both");
        }
        if (settings.has(REDIS)) {
            builder.redis(settings.get(REDIS));
        } else if (settings.has(REDIS_CLUSTER)) {
            builder.redisCluster(Arrays.stream(settings.get(REDIS_CLUSTER).split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).toList());
        }
        return builder;
    }

    /** A short description of the control plane the settings choose, for log lines. */
    public static String plane(Settings settings) {
        if (settings.has(REDIS)) {
            return settings.get(REDIS);
        }
        return settings.has(REDIS_CLUSTER) ? "Redis Cluster " + settings.get(REDIS_CLUSTER) : "in-memory (this JVM only)";
    }

    static String host(String value) {
        if (!"auto".equalsIgnoreCase(value)) {
            return value;
        }
        try {
            return InetAddress.getLocalHost().getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--host auto (BRAID_HOST): cannot find this machine's address", e);
        }
    }

    /**
     * Blocks until this process should stop: SIGTERM/Ctrl-C (then {@code stop} runs in the shutdown
     * hook and the JVM exits), or the end of standard input when {@code --exit-on-stdin-eof} is set
     * (then {@code stop} runs here and this method returns).
     */
    public static void runUntilStopped(Settings settings, Runnable stop) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.run();
            stopped.countDown();
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (settings.getBoolean(EXIT_ON_STDIN_EOF)) {
            Thread.ofPlatform().daemon().name("stdin-watch").start(() -> {
                drain(System.in);
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    return; // the hook runs anyway
                }
                stop.run();
                stopped.countDown();
            });
        }
        stopped.await();
    }

    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // the owner never writes; the end of input means it is gone
            }
        } catch (IOException e) {
            // a broken pipe is an end of input too
        }
    }
}
