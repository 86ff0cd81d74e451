package io.braid.monitor.internal;

import io.braid.api.ClientInterceptor;
import io.braid.api.Handler;
import io.braid.api.Pubsub;
import io.braid.api.ServerInterceptor;
import io.braid.api.Ticker;
import io.braid.api.internal.LaneListener;
import io.braid.api.internal.LinkCacheListener;
import io.braid.api.internal.NodeView;
import io.braid.api.internal.PlayerListener;
import io.braid.api.internal.PubsubListener;
import io.braid.monitor.MonitorOptions;
import io.braid.monitor.TracePlayers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metrics, tracing and the monitor of one node. The runtime makes one per node and wires it in
 * two steps:
 *
 * <ol>
 * <li>before building the node's modules, it takes the {@link #clientInterceptor()} and
 *     {@link #serverInterceptor()} (meters, and spans when an {@link OpenTelemetry} was given), the
 *     {@link #linkCacheListener()}, {@link #pubsubListener()} and {@link #playerListener()} (meters), wraps the pub-sub users
 *     see with {@link #traced(Pubsub)} (producer and consumer spans), and registers the
 *     {@link #handlers()} ({@value #STATS_METHOD}, {@value #DRAIN_METHOD}, {@value #WEIGHT_METHOD},
 *     {@value NodeMethods#PLAYER}, {@value NodeMethods#TIMELINE})
 *     on the node's server;</li>
 * <li>once the node is registered, {@link #start} binds the gauges, starts the sampler (on the
 *     {@linkplain Builder#scheduler lent scheduler}, else one daemon thread of its own) and, when
 *     {@link Builder#http} was set, the HTTP server.</li>
 * </ol>
 *
 * <p>Settings are read once, at {@link Builder#build()}. Call durations and the time between
 * samples (which call rates are measured over) come from the {@linkplain Builder#ticker ticker};
 * the samples' timestamps shown on the dashboard are wall-clock time.
 *
 * <p>Meters go to the registry handed in ({@link Builder#meterRegistry}); without one a
 * {@link PrometheusMeterRegistry} of this node's own. With the HTTP server on and a registry that
 * is not Prometheus, meters go to both (a composite), so {@code /metrics} always has them.
 * Every node should serve the handlers, with or without HTTP: a monitor on any node gathers its
 * figures from all of them.
 *
 * <p>Thread-safe. {@link #close()} stops the HTTP server and the sampler (its task, on a lent
 * scheduler, which it never shuts down), removes the gauges, and closes the registry only if it
 * made it; idempotent. What the node lends ({@link MonitorResources}) the node closes.
 */
public final class Monitoring implements AutoCloseable {
    public static final String STATS_METHOD = NodeMethods.STATS;
    public static final String DRAIN_METHOD = NodeMethods.DRAIN;
    public static final String WEIGHT_METHOD = NodeMethods.WEIGHT;
    private static final Set<String> OWN_METHODS = Set.of(STATS_METHOD, DRAIN_METHOD, WEIGHT_METHOD,
            NodeMethods.PLAYER, NodeMethods.TIMELINE);
    private static final Logger log = LoggerFactory.getLogger(Monitoring.class);
    /** Counters of each of the hot players' two windows (see {@link HotPlayers}). */
    static final int HOT_PLAYER_COUNTERS = 256;

    private final String service;
    private final String nodeId;
    private final MeterRegistry registry;
    private final PrometheusMeterRegistry prometheus;
    private final boolean ownsRegistry;
    /** The user's registry inside our composite, taken out again before the composite is closed. */
    private final MeterRegistry borrowedChild;
    private final OpenTelemetry openTelemetry;
    private final MonitorOptions http;
    private final Duration sampleInterval;
    /** Lent by the builder, never shut down here; null: the sampler gets a thread of its own. */
    private final ScheduledExecutorService scheduler;
    private final RpcMetrics rpcMetrics;
    private final RpcTracing rpcTracing;
    private final MeterListeners listeners;
    private final PlayerMeters playerMeters;
    private final LaneMeters laneMeters;
    private final NodeStats stats;
    private final NodeMethods methods;
    private final Deque<AutoCloseable> started = new ArrayDeque<>();
    private final AtomicBoolean starting = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile MonitorHttpServer server;

    private Monitoring(Builder b) {
        this.service = b.service;
        this.nodeId = b.nodeId;
        this.http = b.http;
        this.sampleInterval = b.sampleInterval;
        this.scheduler = b.scheduler;
        if (b.registry == null) {
            this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            this.registry = prometheus;
            this.ownsRegistry = true;
            this.borrowedChild = null;
        } else if (b.registry instanceof PrometheusMeterRegistry given) {
            this.prometheus = given;
            this.registry = given;
            this.ownsRegistry = false;
            this.borrowedChild = null;
        } else if (http != null) {
            this.prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            CompositeMeterRegistry both = new CompositeMeterRegistry();
            both.add(b.registry);
            both.add(prometheus);
            this.registry = both;
            this.ownsRegistry = true; // closes the composite and our Prometheus registry, not the user's
            this.borrowedChild = b.registry;
        } else {
            this.prometheus = null;
            this.registry = b.registry;
            this.ownsRegistry = false;
            this.borrowedChild = null;
        }
        this.openTelemetry = b.openTelemetry;
        this.rpcMetrics = new RpcMetrics(registry, service, OWN_METHODS, b.ticker);
        this.rpcTracing = openTelemetry == null ? null
                : new RpcTracing(openTelemetry, service, nodeId, OWN_METHODS, b.tracePlayers);
        this.listeners = new MeterListeners(registry);
        this.playerMeters = new PlayerMeters(registry, service);
        if (openTelemetry != null) {
            playerMeters.traceHandoffs(new HandoffTracing(openTelemetry, service, nodeId, b.tracePlayers));
        }
        HotPlayers hot = b.tracePlayers.named() ? new HotPlayers(HOT_PLAYER_COUNTERS, b.ticker, b.tracePlayers) : null;
        this.laneMeters = new LaneMeters(registry, service, hot);
        this.stats = new NodeStats(rpcMetrics, b.samples, sampleInterval.toMillis(), b.ticker, System::currentTimeMillis);
        this.methods = new NodeMethods(stats, hot);
    }

    public static Builder builder(String service, String nodeId) {
        return new Builder(service, nodeId);
    }

    /** Where meters are recorded. */
    public MeterRegistry meterRegistry() {
        return registry;
    }

    /** Times every call the node makes and, when tracing, wraps it in a CLIENT span. Install it first. */
    public ClientInterceptor clientInterceptor() {
        ClientInterceptor metrics = rpcMetrics.clientInterceptor();
        if (rpcTracing == null) {
            return metrics;
        }
        ClientInterceptor tracing = rpcTracing.clientInterceptor();
        return (call, next) -> tracing.intercept(call, traced -> metrics.intercept(traced, next));
    }

    /** Times every call the node serves and, when tracing, runs it in a SERVER span. Install it first. */
    public ServerInterceptor serverInterceptor() {
        ServerInterceptor metrics = rpcMetrics.serverInterceptor();
        if (rpcTracing == null) {
            return metrics;
        }
        ServerInterceptor tracing = rpcTracing.serverInterceptor();
        return (call, next) -> tracing.intercept(call, traced -> {
            try {
                return metrics.intercept(traced, next);
            } catch (Exception e) {
                return CompletableFuture.failedFuture(e);
            }
        });
    }

    public LinkCacheListener linkCacheListener() {
        return listeners.linkCache();
    }

    public PubsubListener pubsubListener() {
        return listeners.pubsub();
    }

    /**
     * Records the node's players (activations, deactivations, hand-overs, saves, rebalance) and its
     * self-fence as meters, and when tracing, a span per hand-over. Its meters exist from
     * {@link Builder#build()}, at 0.
     */
    public PlayerListener playerListener() {
        return playerMeters;
    }

    /**
     * Records the server's token lanes (depth at entry, wait and run time) as meters, and the
     * node's hot players from the calls' runs. Give it to the node's RPC server; its meters exist
     * from {@link Builder#build()}, at 0.
     */
    public LaneListener laneListener() {
        return laneMeters;
    }

    /** {@code pubsub} with producer and consumer spans; {@code pubsub} itself when not tracing. */
    public Pubsub traced(Pubsub pubsub) {
        Objects.requireNonNull(pubsub, "pubsub");
        return openTelemetry == null ? pubsub : new PubsubTracing(pubsub, openTelemetry);
    }

    /** The methods every node serves for the monitor, by name: blocking byte handlers. */
    public Map<String, Handler<byte[], byte[]>> handlers() {
        return methods.handlers();
    }

    /**
     * The node is registered: binds the gauges, starts sampling and, if configured, the HTTP
     * server. Call once.
     *
     * @param lent what the node lends the HTTP server and its calls to other nodes; needed only
     *     with {@link Builder#http} (null otherwise); the node closes it, after this
     * @throws io.braid.api.BraidException UNAVAILABLE when the HTTP port cannot be bound
     * @throws IllegalArgumentException when the HTTP server is configured and nothing is lent
     */
    public void start(NodeView view, MonitorResources lent) {
        Objects.requireNonNull(view, "view");
        if (http != null && lent == null) {
            throw new IllegalArgumentException("the monitor of " + nodeId + " serves HTTP: it needs the node's "
                    + "event loops and client (MonitorResources)");
        }
        if (!starting.compareAndSet(false, true)) {
            throw new IllegalStateException("monitoring of " + nodeId + " is already started");
        }
        try {
            ClusterGauges gauges = new ClusterGauges(registry, view);
            started.push(gauges);
            ScheduledExecutorService sampler = scheduler;
            if (sampler == null) {
                sampler = Executors.newSingleThreadScheduledExecutor(
                        Thread.ofPlatform().daemon().name("braid-monitor-" + nodeId).factory());
                started.push(sampler::shutdownNow);
            }
            long every = sampleInterval.toMillis();
            ScheduledFuture<?> sampling = sampler.scheduleWithFixedDelay(() -> {
                try {
                    stats.sample();
                    gauges.refresh();
                } catch (RuntimeException e) {
                    log.warn("monitor sampling of node {} failed", nodeId, e);
                }
            }, 0, every, TimeUnit.MILLISECONDS);
            started.push(() -> sampling.cancel(false));
            methods.attach(view);
            if (http != null) {
                ClusterApi api = new ClusterApi(view, methods, new NodeCaller(lent.nodes()), http.gatherTimeout(),
                        System::currentTimeMillis);
                server = new MonitorHttpServer(http, view, api, prometheus, lent);
                started.push(server);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Where the HTTP server listens, once started with one. */
    public Optional<InetSocketAddress> httpAddress() {
        MonitorHttpServer running = server;
        return running == null ? Optional.empty() : Optional.of(running.address());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                log.warn("closing the monitoring of node {} failed", nodeId, e);
            }
        }
        if (!ownsRegistry) {
            playerMeters.remove(); // its gauges: the borrowed registry outlives this node
        }
        if (ownsRegistry) {
            if (borrowedChild != null && registry instanceof CompositeMeterRegistry composite) {
                composite.remove(borrowedChild);
            }
            registry.close();
            if (prometheus != null && prometheus != registry) {
                prometheus.close();
            }
        }
    }

    @Override
    public String toString() {
        return "Monitoring{" + service + "/" + nodeId + (http != null ? ", http " + http : "") + "}";
    }

    /** Settings; each setter validates at once. */
    public static final class Builder {
        private final String service;
        private final String nodeId;
        private MeterRegistry registry;
        private OpenTelemetry openTelemetry;
        private MonitorOptions http;
        private Duration sampleInterval = Duration.ofSeconds(5);
        private int samples = 60;
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;
        private TracePlayers tracePlayers = TracePlayers.PLAIN;

        private Builder(String service, String nodeId) {
            if (service == null || service.isBlank()) {
                throw new IllegalArgumentException("service must not be blank");
            }
            if (nodeId == null || nodeId.isBlank()) {
                throw new IllegalArgumentException("nodeId must not be blank");
            }
            this.service = service;
            this.nodeId = nodeId;
        }

        /** Where meters go; borrowed, never closed here. Default: a Prometheus registry of the node's own. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        /** Traces calls and messages with this OpenTelemetry; default none (no spans, no headers). */
        public Builder openTelemetry(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
            return this;
        }

        /**
         * Serves the monitor's HTTP API, /metrics and dashboard with these options; default off.
         *
         * @throws IllegalArgumentException when {@code options} bind beyond loopback with neither a
         *         bearer token nor {@link MonitorOptions#allowUnauthenticatedReads()}
         */
        public Builder http(MonitorOptions options) {
            Objects.requireNonNull(options, "monitor options").requireTokenBeyondLoopback();
            this.http = options;
            return this;
        }

        /**
         * How often the node samples its call rates and p99s (the history the dashboard charts),
         * 10 ms..1 minute, and how many samples it keeps, 1..10,000. Defaults: every 5 s, 60 samples
         * (5 minutes).
         */
        public Builder sampling(Duration interval, int samples) {
            Objects.requireNonNull(interval, "sampling interval");
            if (interval.compareTo(Duration.ofMillis(10)) < 0 || interval.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("sampling interval must be in 10 ms..1 minute, was " + interval);
            }
            if (samples < 1 || samples > 10_000) {
                throw new IllegalArgumentException("samples must be in 1..10000, was " + samples);
            }
            this.sampleInterval = interval;
            this.samples = samples;
            return this;
        }

        /**
         * The clock of call durations and of the time between samples (call rates); default
         * {@link Ticker#system()}. The sampler still runs on real time: a test moves the ticker to
         * make the figures see time pass.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Runs the sampler; lent, never shut down here ({@link Monitoring#close()} cancels the
         * task). Default: one daemon thread of the monitoring's own, started by {@link #start}.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * How players are named in spans ({@code braid.player}, and the baggage entry of that name)
         * and in the node's hot players: {@link TracePlayers#PLAIN} (default), {@link TracePlayers#hashed},
         * or {@link TracePlayers#OFF}.
         */
        public Builder tracePlayers(TracePlayers players) {
            this.tracePlayers = Objects.requireNonNull(players, "tracePlayers");
            return this;
        }

        /** The monitoring with these settings, read once here: changing this builder later changes nothing in it. */
        public Monitoring build() {
            return new Monitoring(this);
        }
    }
}
