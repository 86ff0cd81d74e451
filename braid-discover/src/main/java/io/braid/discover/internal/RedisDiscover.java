package io.braid.discover.internal;

import io.braid.api.BraidException;
import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Subscription;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
import io.braid.api.internal.SerialScheduler;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovery on Redis. Each registered node refreshes its record every {@code heartbeat}; the
 * record expires after {@code ttl} without one, so a crashed node disappears by itself. Changes are
 * announced on Redis pub/sub (watchers re-read the service at once) and a full resync every
 * {@code resyncInterval} repairs anything missed, expiries included.
 *
 * <p>Keys ({svc:S} keeps a service in one Cluster slot): {@code braid:{svc:S}:nodes} ZSET id to
 * expiry, {@code braid:{svc:S}:node:ID} the record hash (with its writer's {@code incarnation} and
 * {@code version}), {@code braid:{svc:S}:left:ID} a graceful leave's version for a while after it,
 * {@code braid:{svc:S}:store} a random id set by the first registration the store sees (it changes
 * only when Redis lost the service's data), {@code braid:{svc:S}:override:ID} an
 * operator's {@code weight} / {@code state} (ACTIVE, DRAINING) that wins over the record, and
 * {@code braid:services} SET. After writing an override, {@code PUBLISH braid:discover S} makes
 * it visible at once; otherwise the next resync picks it up.
 *
 * <p>Protection: when a resync suddenly shows less than {@code protectThreshold} of a service's
 * known nodes, or shows that the store lost the service's data (its store id changed or went:
 * Redis restarted empty, or was flushed; however many nodes are back already), the vanished nodes are kept for
 * {@code protectGrace} while they re-register, and this is logged, rather than dropping the
 * service. Nodes that left gracefully are not held.
 *
 * <p>Order of changes: each change of a node's record ({@link #register}, {@link #deregister}) takes
 * the next version of this instance (an incarnation id chosen at build, plus a counter), and Redis
 * keeps whichever write has the highest version: a write that arrives late (a heartbeat that read the
 * record just before {@code register()} changed it, or one that crosses a {@code deregister()})
 * never replaces a newer record nor brings back a node that left. A heartbeat writes the record
 * only where Redis lost it or holds an older version; otherwise it only extends the lease. So once
 * DRAINING is in Redis, a heartbeat never puts ACTIVE back ({@code RecordRaces}, run by
 * {@code RedisDiscoverTest} and {@code RedisClusterDiscoverTest}).
 *
 * <p>Bad arguments throw {@code BraidException(INVALID_ARGUMENT)} naming the argument;
 * {@link #refresh} fails its future with it instead.
 *
 * <p>Redis down: reads keep serving the last view, heartbeats retry each interval and re-register
 * by themselves when Redis is back. All background work runs one task at a time, on a thread of
 * its own or on the scheduler given to {@link Builder#scheduler} (borrowed, never closed here);
 * watchers are called there, in order, and must not block. Every timing policy (protection,
 * left-recently, lapses) reads the {@link Builder#ticker}. Thread-safe. {@link #close()} deregisters this instance's
 * nodes at once; it does not close the borrowed {@link RedisConnector}.
 */
public final class RedisDiscover implements Discover {
    static final String SERVICES_KEY = "braid:services";
    static final String EVENTS_CHANNEL = "braid:discover";
    private static final String LEFT = "\nleft\n";

    private static final Logger log = LoggerFactory.getLogger(RedisDiscover.class);
    private static final RedisScript REGISTER = RedisScript.resource(RedisDiscover.class, "register.lua");
    private static final RedisScript DEREGISTER = RedisScript.resource(RedisDiscover.class, "deregister.lua");
    private static final RedisScript SNAPSHOT = RedisScript.resource(RedisDiscover.class, "snapshot.lua");

    private final RedisConnector redis;
    private final Duration heartbeat;
    private final Duration ttl;
    private final Duration resyncInterval;
    private final double protectThreshold;
    private final Duration protectGrace;
    /** Every timing policy reads this: protection, left-recently, lapses, the heartbeat's age. */
    private final Ticker ticker;
    /** Runs this instance's background work one task at a time, on its own thread or a borrowed scheduler. */
    private final SerialScheduler loop;
    /** Runs on the loop; after close, silently drops the task. */
    private final java.util.concurrent.Executor onLoop;
    private final Listeners listeners = new Listeners();
    /** This instance's nodes, each with the version of the last change it made to the node's record. */
    private final Map<String, Registration> registered = new ConcurrentHashMap<>();
    /** Tells this instance's writes apart from an earlier process's with the same node id. */
    private final String incarnation = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
    private final java.util.concurrent.atomic.AtomicLong versions = new java.util.concurrent.atomic.AtomicLong();
    private final ServiceViews views = new ServiceViews();
    // Touched on the loop thread only:
    private final Map<String, Long> protectedSince = new HashMap<>();
    /** Per service, the store id of the last snapshot (see register.lua); on the loop. */
    private final Map<String, String> storeIds = new HashMap<>();
    private final Map<String, Long> leftRecently = new HashMap<>();
    /**
     * Per service with an announced re-read on its way: whether another announcement came meanwhile
     * (that re-read may have been answered before the change it announces, so one more follows).
     */
    private final Map<String, Boolean> announcedResyncs = new HashMap<>();
    private final Map<String, java.util.concurrent.Future<?>> expiryChecks = new HashMap<>();
    private Set<String> malformed = new HashSet<>();
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** When the last confirmed heartbeat (or first registration) was sent; only moves forward. */
    private final java.util.concurrent.atomic.AtomicLong lastHeartbeatOkNanos;
    /** When the last registration lapse ended (on the ticker); meaningful once {@code lapsed}. */
    private volatile long lapseEndedNanos;
    private volatile boolean lapsed;
    /** A TTL passed without a confirmed heartbeat; the lapse ends with the next confirmed one. */
    private volatile boolean lapsePending;
    private volatile Runnable lapseListener = () -> { };
    private boolean heartbeatFailing;
    private boolean resyncFailing;

    private RedisDiscover(Builder b) {
        this.redis = b.redis;
        this.heartbeat = b.heartbeat;
        this.ttl = b.ttl;
        this.resyncInterval = b.resyncInterval;
        this.protectThreshold = b.protectThreshold;
        this.protectGrace = b.protectGrace != null ? b.protectGrace : b.ttl.multipliedBy(2);
        this.ticker = b.ticker;
        this.lastHeartbeatOkNanos = new java.util.concurrent.atomic.AtomicLong(ticker.read());
        this.loop = SerialScheduler.borrowingOrOwning(b.scheduler,
                Thread.ofPlatform().name("braid-discover").daemon().factory());
        this.onLoop = task -> {
            try {
                loop.execute(task);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // closed: nothing left to update
            }
        };
        this.pubSub = redis.newPubSub();
        pubSub.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                onEvent(message);
            }
        });
        try {
            pubSub.sync().subscribe(EVENTS_CHANNEL);
            submit(this::fullResync).get(b.startTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            close();
            throw RedisErrors.toBraid("discover cannot read the cluster from " + redis.description(), e);
        }
        loop.scheduleWithFixedDelay(this::heartbeatAll, heartbeat.toNanos(), heartbeat.toNanos(), TimeUnit.NANOSECONDS);
        loop.scheduleWithFixedDelay(this::fullResync, resyncInterval.toNanos(), resyncInterval.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    public static Builder builder(RedisConnector redis) {
        return new Builder(redis);
    }

    private record Registration(Node node, long version) {
    }

    @Override
    public List<Node> nodes(String service) {
        return views.nodes(service);
    }

    @Override
    public Set<String> services() {
        return views.services();
    }

    @Override
    public Subscription watch(Consumer<DiscoverEvent> listener) {
        return listeners.add(listener);
    }

    /**
     * Registers (or updates) a node and waits until Redis has it and this instance's view shows it.
     *
     * @throws BraidException UNAVAILABLE when Redis cannot be reached; this instance then keeps the
     *     node's previous record (none, for a new node), though the write may have reached Redis;
     *     INVALID_ARGUMENT for a null node or a service name or id that cannot be part of a key
     */
    @Override
    public void register(Node node) {
        Names.notNull(node, "node");
        Names.service(node.service());
        Names.nodeId(node.id());
        if (closed.get()) {
            throw new IllegalStateException("discover is closed");
        }
        long started = ticker.read();
        Registration registration = new Registration(node, versions.incrementAndGet());
        try {
            writeRecord(registration).thenCompose(existed -> redis.async().sadd(SERVICES_KEY, node.service()))
                    .thenCompose(added -> redis.async().publish(EVENTS_CHANNEL, node.service()))
                    .get(ttl.toMillis(), TimeUnit.MILLISECONDS);
            boolean first = registered.isEmpty();
            registered.merge(node.id(), registration, (held, mine) -> mine.version() > held.version() ? mine : held);
            if (first) {
                heartbeatConfirmed(started);
            }
            CompletableFuture<Void> applied = CompletableFuture.supplyAsync(() -> resync(node.service()), loop)
                    .thenCompose(resynced -> resynced);
            if (!loop.inLoop()) { // a watcher registering: its view follows soon
                applied.get(ttl.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            throw RedisErrors.toBraid("cannot register " + node.id() + " with " + redis.description(), e);
        }
    }

    @Override
    public void deregister(String nodeId) {
        Names.notNull(nodeId, "nodeId");
        Registration registration = registered.remove(nodeId);
        if (registration == null) {
            return;
        }
        Node node = registration.node();
        String leave = incarnation + "|" + versions.incrementAndGet();
        // Remembered well past any heartbeat still on its way: the longest a write waits is one TTL.
        String remember = Long.toString(ttl.toMillis() * 3);
        try {
            redis.eval(DEREGISTER, ScriptOutputType.INTEGER, new String[] {nodesKey(node.service()),
                            nodeKey(node.service(), nodeId), leftKey(node.service(), nodeId)}, nodeId, leave, remember)
                    .thenCompose(removed -> redis.async().publish(EVENTS_CHANNEL, node.service() + LEFT + nodeId))
                    .get(ttl.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Redis is unreachable: the record expires by itself within the TTL.
            log.warn("cannot deregister {} now ({}); its record expires within {}", nodeId, e.getMessage(), ttl);
        }
        if (!closed.get()) {
            submit(() -> {
                leftRecently.put(nodeId, ticker.read());
                resync(node.service());
            });
        }
    }

    @Override
    public CompletableFuture<List<Node>> refresh(String service) {
        if (service == null) {
            return CompletableFuture.failedFuture(Names.invalid("service must not be null"));
        }
        return CompletableFuture.supplyAsync(() -> resync(service), loop).thenCompose(resynced -> resynced)
                .thenApply(applied -> nodes(service));
    }

    /** How long ago this instance last confirmed its registrations in Redis (for self-fencing). */
    public Duration sinceLastHeartbeat() {
        return Duration.ofNanos(ticker.read() - lastHeartbeatOkNanos.get());
    }

    /**
     * How long ago this instance came back from its last registration lapse, or null if it never
     * had one. A lapse is a time in which the cluster may have taken this node for gone and given
     * its players to other nodes: a TTL passed without a confirmed heartbeat (the process was
     * frozen, or cut off from Redis; it ends with the next confirmed heartbeat), or a heartbeat
     * found its record missing (Redis lost it: a restart without data, FLUSHALL, a failover). The
     * self-fence reads this to keep work that was routed here before the lapse from running after it.
     */
    /**
     * Runs {@code listener} on every registration lapse this instance notices (see
     * {@link #sinceRegistrationLapse}), on the thread that noticed it; it must be quick and must
     * not throw. One listener; a second call replaces the first.
     */
    public void onRegistrationLapse(Runnable listener) {
        this.lapseListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    public Duration sinceRegistrationLapse() {
        return lapsed ? Duration.ofNanos(ticker.read() - lapseEndedNanos) : null;
    }

    /** Notes a heartbeat sent at {@code sentNanos} as confirmed, unless a later one was confirmed first. */
    private void heartbeatConfirmed(long sentNanos) {
        lastHeartbeatOkNanos.accumulateAndGet(sentNanos, (held, sent) -> sent - held > 0 ? sent : held);
        if (lapsePending) {
            lapsePending = false;
            registrationLapsed("no heartbeat was confirmed for over the TTL");
        }
    }

    /**
     * Notes a possible lapse when a TTL has passed since the last confirmed heartbeat was sent: its
     * record may have expired. Checked when a heartbeat is due and when one fails, not from the
     * confirmations: a heartbeat held in a dead link and run by Redis later carries its early send
     * time, though the record may have expired before it ran.
     */
    private void checkForLapse() {
        if (ticker.read() - lastHeartbeatOkNanos.get() > ttl.toNanos()) {
            lapsePending = true;
        }
    }

    private void registrationLapsed(String why) {
        lapseEndedNanos = ticker.read();
        lapsed = true;
        log.warn("the registration of this node lapsed ({}): its players may have moved; token work waits", why);
        try {
            lapseListener.run();
        } catch (RuntimeException e) {
            log.warn("a registration lapse listener failed", e);
        }
    }

    private CompletableFuture<Long> writeRecord(Registration registration) {
        Node node = registration.node();
        List<String> args = new ArrayList<>();
        args.add(node.id());
        args.add(Long.toString(ttl.toMillis()));
        args.add(incarnation);
        args.add(Long.toString(registration.version()));
        // The store id, if this is the first registration the store sees: unique to this write, so a
        // store that lost its data and got its first registration back from the same instance still
        // shows a new id.
        args.add(incarnation + "|" + registration.version() + "|" + ticker.read());
        args.addAll(NodeRecord.fields(node));
        return redis.eval(REGISTER, ScriptOutputType.INTEGER, new String[] {nodesKey(node.service()),
                nodeKey(node.service(), node.id()), leftKey(node.service(), node.id()), storeKey(node.service())},
                args.toArray(String[]::new));
    }

    private void heartbeatAll() {
        checkForLapse();
        if (registered.isEmpty()) {
            heartbeatConfirmed(ticker.read());
            return;
        }
        long started = ticker.read();
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (Registration registration : registered.values()) {
            Node node = registration.node();
            writes.add(writeRecord(registration).thenCompose(existed -> {
                if (existed == 0L) {
                    // Redis lost our record (restart without data, flush, failover): we are back now.
                    registrationLapsed("its record was gone from Redis");
                    log.info("re-registered {} in service {} (its record was gone from Redis)", node.id(), node.service());
                    return redis.async().sadd(SERVICES_KEY, node.service())
                            .thenCompose(x -> redis.async().publish(EVENTS_CHANNEL, node.service()));
                }
                return CompletableFuture.completedFuture(0L);
            }).toCompletableFuture());
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
        // Confirmed on the thread that hears the reply, not after a hop to the loop: the self-fence
        // reads this, and a busy loop must not make a healthy node look cut off.
        all.thenRun(() -> heartbeatConfirmed(started));
        all.whenCompleteAsync((ok, failure) -> {
            if (failure == null) {
                if (heartbeatFailing) {
                    heartbeatFailing = false;
                    log.info("heartbeats to {} work again", redis.description());
                }
            } else if (!heartbeatFailing) {
                heartbeatFailing = true;
                log.warn("heartbeat to {} failed ({}); retrying every {}", redis.description(),
                        failure.getMessage(), heartbeat);
            }
        }, onLoop);
    }

    private void onEvent(String message) {
        int split = message.indexOf(LEFT);
        String service = split < 0 ? message : message.substring(0, split);
        String leftId = split < 0 ? null : message.substring(split + LEFT.length());
        try {
            submit(() -> {
                if (leftId != null) {
                    leftRecently.put(leftId, ticker.read());
                }
                resyncAnnounced(service);
            });
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // closing
        }
    }

    /**
     * On the loop: re-reads a service an announcement named. Announcements that come while a re-read
     * is on its way fold into one more re-read after it, never into none.
     */
    private void resyncAnnounced(String service) {
        if (announcedResyncs.containsKey(service)) {
            announcedResyncs.put(service, Boolean.TRUE);
            return;
        }
        announcedResyncs.put(service, Boolean.FALSE);
        resync(service).whenCompleteAsync((x, e) -> {
            if (Boolean.TRUE.equals(announcedResyncs.remove(service))) {
                resyncAnnounced(service);
            }
        }, onLoop);
    }

    /** On the loop: re-reads every known service. */
    private void fullResync() {
        redis.async().smembers(SERVICES_KEY).toCompletableFuture().whenCompleteAsync((services, failure) -> {
            if (failure != null) {
                noteResyncFailure(failure);
                return;
            }
            Set<String> all = new HashSet<>(services);
            all.addAll(views.services());
            for (String service : all) {
                resync(service);
            }
        }, onLoop);
        long now = ticker.read();
        leftRecently.values().removeIf(at -> now - at > protectGrace.toNanos() + ttl.toNanos());
    }

    /** On the loop: reads one service and applies the difference. */
    private CompletableFuture<Void> resync(String service) {
        return redis.<List<Object>>eval(SNAPSHOT, ScriptOutputType.MULTI, new String[] {nodesKey(service),
                        storeKey(service)}, prefix(service))
                .thenAcceptAsync(reply -> {
                    apply(service, parseSnapshot(service, reply), String.valueOf(reply.get(3)));
                    scheduleExpiryCheck(service, (Long) reply.get(1), (Long) reply.get(2));
                }, onLoop)
                .exceptionally(failure -> {
                    onLoop.execute(() -> noteResyncFailure(failure));
                    return null;
                });
    }

    /**
     * On the loop: re-reads the service right after its earliest record expires, so a crash is
     * seen within the TTL of the last heartbeat rather than up to a resync interval later.
     */
    private void scheduleExpiryCheck(String service, long redisNowMillis, long earliestExpiryMillis) {
        if (earliestExpiryMillis < 0 || closed.get()) {
            return;
        }
        long delayMillis = earliestExpiryMillis - redisNowMillis + 20;
        if (delayMillis >= resyncInterval.toMillis()) {
            return; // the periodic resync comes first
        }
        java.util.concurrent.Future<?> pending = expiryChecks.get(service);
        if (pending != null && !pending.isDone()) {
            return;
        }
        try {
            expiryChecks.put(service, loop.schedule(() -> resync(service), Math.max(1, delayMillis),
                    TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // closing
        }
    }

    private List<Node> parseSnapshot(String service, List<Object> reply) {
        List<Node> nodes = new ArrayList<>();
        Set<String> bad = new HashSet<>();
        for (int i = 4; i + 2 < reply.size(); i += 3) {
            String key = service + "/" + reply.get(i);
            Node node;
            try {
                node = NodeRecord.parse((List<?>) reply.get(i + 1));
            } catch (RuntimeException e) {
                if (bad.add(key) && !malformed.contains(key)) {
                    log.warn("ignoring a malformed record of node {} in service {}: {}", reply.get(i), service, e.toString());
                }
                continue;
            }
            List<?> override = (List<?>) reply.get(i + 2);
            if (!override.isEmpty()) {
                try {
                    node = NodeRecord.override(node, override);
                } catch (RuntimeException e) {
                    if (bad.add(key + "/override") && !malformed.contains(key + "/override")) {
                        log.warn("ignoring a malformed override of node {}: {}", node.id(), e.toString());
                    }
                }
            }
            if (node.service().equals(service)) {
                nodes.add(node);
            }
        }
        malformed.removeIf(key -> key.startsWith(service + "/"));
        malformed.addAll(bad);
        return nodes;
    }

    /** On the loop. */
    private void apply(String service, List<Node> fresh, String store) {
        if (resyncFailing) {
            resyncFailing = false;
            log.info("discovery reads from {} work again", redis.description());
        }
        List<Node> known = nodes(service);
        Map<String, Node> freshById = new HashMap<>();
        for (Node node : fresh) {
            freshById.put(node.id(), node);
        }
        List<Node> vanished = new ArrayList<>();
        int surviving = 0;
        for (Node node : known) {
            if (freshById.containsKey(node.id())) {
                surviving++;
            } else if (!leftRecently.containsKey(node.id())) {
                vanished.add(node);
            }
        }
        List<Node> next = new ArrayList<>(fresh);
        long now = ticker.read();
        // The store's id changes (or goes) only when Redis lost the service's data: then every node
        // that vanished is held, however many are back already.
        String storeBefore = storeIds.put(service, store);
        boolean dataLost = storeBefore != null && !storeBefore.isEmpty() && !storeBefore.equals(store);
        boolean sudden = !vanished.isEmpty() && (dataLost || surviving < protectThreshold * known.size());
        Long since = protectedSince.get(service);
        if (since == null && sudden) {
            since = now;
            protectedSince.put(service, now);
            log.warn("service {}: {} of {} known nodes vanished at once; keeping them for {} while they re-register"
                    + " (Redis restarted empty or was flushed?)", service, vanished.size(), known.size(), protectGrace);
        }
        if (since != null) {
            if (vanished.isEmpty()) {
                protectedSince.remove(service); // everyone is back
            } else if (now - since < protectGrace.toNanos()) {
                next.addAll(vanished); // hold them until the grace ends, however many are back already
            } else {
                protectedSince.remove(service);
                log.warn("service {}: {} nodes did not come back within {}; removing them", service, vanished.size(),
                        protectGrace);
            }
        }
        List<Node> after = ServiceView.sorted(next);
        List<DiscoverEvent> events = ServiceView.diff(known, after);
        if (events.isEmpty()) {
            return;
        }
        views.replace(service, after);
        listeners.publish(events);
    }

    private void noteResyncFailure(Throwable failure) {
        if (!resyncFailing) {
            resyncFailing = true;
            log.warn("cannot read discovery from {} ({}); serving the last view", redis.description(),
                    failure.getMessage());
        }
    }

    private CompletableFuture<Void> submit(Runnable task) {
        return CompletableFuture.runAsync(task, loop);
    }

    static String prefix(String service) {
        return "braid:{svc:" + service + "}";
    }

    static String storeKey(String service) {
        return prefix(service) + ":store";
    }

    static String nodesKey(String service) {
        return prefix(service) + ":nodes";
    }

    static String nodeKey(String service, String id) {
        return prefix(service) + ":node:" + id;
    }

    static String leftKey(String service, String id) {
        return prefix(service) + ":left:" + id;
    }

    static String overrideKey(String service, String id) {
        return prefix(service) + ":override:" + id;
    }

    /** Test hook: stop all background work without deregistering, as a crashed process would. */
    void haltAsIfCrashed() {
        closed.set(true);
        registered.clear();
        loop.close();
        pubSub.closeAsync();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (String id : List.copyOf(registered.keySet())) {
            deregister(id);
        }
        loop.close();
        pubSub.close(); // before the connector shuts down, which would close it a second time
        listeners.clear();
    }

    /** Settings; every setter validates at once. */
    public static final class Builder {
        private final RedisConnector redis;
        private Duration heartbeat = Duration.ofSeconds(1);
        private Duration ttl = Duration.ofSeconds(3);
        private Duration resyncInterval = Duration.ofSeconds(1);
        private double protectThreshold = 0.5;
        private Duration protectGrace;
        private Duration startTimeout = Duration.ofSeconds(5);
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;

        private Builder(RedisConnector redis) {
            this.redis = Objects.requireNonNull(redis, "redis");
        }

        /** How often a node refreshes its record; default 1 s. */
        public Builder heartbeat(Duration heartbeat) {
            this.heartbeat = Checks.positive(heartbeat, "heartbeat");
            return this;
        }

        /** How long a record lives without a heartbeat; default 3 s; at least twice the heartbeat. */
        public Builder ttl(Duration ttl) {
            this.ttl = Checks.positive(ttl, "ttl");
            return this;
        }

        /** How often the whole view is re-read; default 1 s. */
        public Builder resyncInterval(Duration interval) {
            this.resyncInterval = Checks.positive(interval, "resyncInterval");
            return this;
        }

        /** Share of known nodes below which a sudden drop is held back; 0 turns protection off. Default 0.5. */
        public Builder protectThreshold(double threshold) {
            if (!(threshold >= 0 && threshold <= 1)) {
                throw new IllegalArgumentException("protectThreshold must be in 0..1, was " + threshold);
            }
            this.protectThreshold = threshold;
            return this;
        }

        /** How long vanished nodes are held; default twice the TTL. */
        public Builder protectGrace(Duration grace) {
            this.protectGrace = Checks.positive(grace, "protectGrace");
            return this;
        }

        /**
         * The clock of every timing policy (protection and its grace, left-recently, lapses, the
         * heartbeat's age); default {@link Ticker#system()}. Tests move one by hand.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Where heartbeats, resyncs and watcher calls run, one task at a time; borrowed: its owner
         * closes it, {@link RedisDiscover#close()} only stops this instance's tasks on it. Default:
         * a thread of this instance's own, closed with it.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        public RedisDiscover build() {
            if (ttl.compareTo(heartbeat.multipliedBy(2)) < 0) {
                throw new IllegalStateException("ttl (" + ttl + ") must be at least twice the heartbeat (" + heartbeat
                        + "), or one late heartbeat drops a live node");
            }
            return new RedisDiscover(this);
        }
    }
}
