package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.ChannelOptions;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.PlayerListener;
import io.braid.testkit.Await;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * The metric names a real node's {@code /metrics} shows once every kind of meter has a series:
 * the files under the repository's {@code ops/} (alert rules, Grafana dashboard) may query only
 * these. Two nodes on the in-memory control plane, a gateway with the monitor and a logic node,
 * call each other (OK both ways, one failing call to the gateway) and relink a player; the gateway
 * subscribes channels that deliver, leave a backlog, and fail twice (a redelivery, then the dead
 * letters), publishes once, and reports a lost Redis connection through its monitor's link-cache
 * listener, as the Redis link cache does when its connection drops, and a player handed over and
 * saved through its player listener, as a node's players do.
 */
final class ExportedMetrics {
    static final Path OPS = Path.of("").toAbsolutePath().getParent().resolve("ops");
    private static final String TOKEN = "exported-metrics-token-0123456789";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private ExportedMetrics() {
    }

    /** The names of the samples of one scrape (a summary's {@code _count}, {@code _sum} and quantiles included). */
    static Set<String> names(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }

    /** Starts the cluster, exercises every meter, scrapes {@code /metrics} and closes the cluster. */
    static Set<String> ofARealNode() {
        try (TestCluster cluster = new TestCluster()) {
            TestCluster.TestNode gateway = cluster.start(TestCluster.Spec.of("gateway", "gateway-1")
                    .withHttp(MonitorOptions.port(0).withBearerToken(TOKEN)));
            TestCluster.TestNode logic = cluster.start(TestCluster.Spec.of("logic", "logic-1"));
            gateway.hello("logic", "exported-player", "a");
            gateway.hello("logic", "exported-player", "b");
            logic.hello("gateway", "exported-player", "c"); // the monitored node's server timers
            try {
                logic.client.invoke("gateway", "fail", "exported-player",
                        com.google.protobuf.StringValue.of("x"), com.google.protobuf.StringValue.parser()).join();
            } catch (RuntimeException expected) {
                // an INTERNAL answer: the code tag gets a value other than OK
            }
            gateway.linkCache.relink("exported-player", logic.node());
            var delivered = gateway.pubsub.topic("exported").subscribe("delivered", ChannelOptions.DEFAULT);
            delivered.onMessage(message -> {
            });
            var idle = gateway.pubsub.topic("exported").subscribe("idle", ChannelOptions.DEFAULT);
            var doomed = gateway.pubsub.topic("exported").subscribe("doomed",
                    ChannelOptions.DEFAULT.withRedeliverAfter(Duration.ofMillis(20)).withMaxDeliveries(2));
            doomed.onMessage(message -> {
                throw new IllegalStateException("doomed");
            });
            gateway.pubsub.topic("exported").publish("x".getBytes(StandardCharsets.UTF_8)).join();
            gateway.monitoring.linkCacheListener().nearCacheDistrusted(LinkCacheListener.DistrustReason.DISCONNECTED);
            // A player handed over and one saved, as a node's players tell it (the families exist at 0 anyway).
            gateway.monitoring.playerListener().handedOver("logic-1", Duration.ofMillis(12));
            gateway.monitoring.playerListener().saved(PlayerListener.SaveOutcome.SAVED);

            String base = gateway.baseUrl();
            Set<String> expected = Set.of("braid_pubsub_backlog", "braid_pubsub_pending", "braid_pubsub_consumers",
                    "braid_pubsub_dead_letters", "braid_pubsub_delivered_total", "braid_pubsub_redelivered_total",
                    "braid_pubsub_dead_lettered_total", "braid_linkcache_links", "braid_players_active",
                    "braid_players_handoff_duration_seconds", "braid_node_fenced");
            Set<String> seen = new TreeSet<>();
            try {
                Await.until(WAIT, "every kind of meter on /metrics", () -> {
                    seen.clear();
                    seen.addAll(names(Http.get(base + "/metrics", TOKEN).body()));
                    return seen.containsAll(expected);
                });
            } catch (IllegalStateException e) {
                Set<String> missing = new TreeSet<>(expected);
                missing.removeAll(seen);
                throw new AssertionError("/metrics still lacks " + missing + " after " + WAIT, e);
            }
            HttpResponse<String> metrics = Http.get(base + "/metrics", TOKEN);
            assertThat(metrics.statusCode()).isEqualTo(200);
            idle.close();
            doomed.close();
            delivered.close();
            return names(metrics.body());
        } catch (Exception e) {
            throw new AssertionError("gathering the names of a real node's /metrics failed", e);
        }
    }
}
