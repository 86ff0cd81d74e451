package io.braid.elector;

import io.braid.api.internal.Checks;
import io.braid.api.Elector;
import io.braid.api.Role;
import io.braid.api.Subscription;
import io.braid.redis.RedisConnector;
import io.braid.redis.RedisScript;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on Redis: a lease key per service, acquired and renewed by one script that
 * checks ownership, and a fencing epoch that an {@code INCR} grows for every new leader.
 *
 * <p>What we guarantee, and what we do not: Redis is not a consensus store. With one Redis, at
 * most one node believes it leads at any moment, provided clocks advance at the same rate within
 * {@code safetyMargin} over a lease: a leader counts its lease from the moment it <em>sent</em> the
 * last confirmed renewal and stops leading {@code safetyMargin} before that lease ends, even while
 * frozen (the check runs when {@link #role()} is asked).
 *
 * <p>Replicas (Cluster, Sentinel): an acquisition or renewal counts as confirmed only once a
 * replica has it ({@code WAIT} after the script, on the node that ran it). By default the elector
 * asks for one replica whenever that node has any connected ({@code ROLE}), and none when it has
 * none; {@link Builder#confirmReplicas(int)} makes that a fixed number, or turns it off. A candidate
 * whose acquisition no replica confirmed does not lead (its role stays WAIT), and a leader whose
 * renewals go unconfirmed steps down when its last confirmed lease ends. So a failover that
 * promotes the replica with the most data (both Redis Cluster and Sentinel do) keeps the lease and
 * the epoch, and cannot crown a second leader. What remains: a failover to a replica that missed
 * writes (forced, or a replica whose link was down yet still promoted) can; chores must still be
 * fenced by epoch where the store they touch can check it. A replica that stalls (frozen, but its
 * connection open) stops every election on that master until Redis drops it ({@code repl-timeout}).
 *
 * <p>Keys: {@code braid:{elect:S}:leader} = {@code id|epoch} with a PX lease,
 * {@code braid:{elect:S}:epoch}. Defaults: lease 3 s, renewal every lease/3, margin lease/10.
 */
public final class RedisElector implements Elector {
    private static final Logger log = LoggerFactory.getLogger(RedisElector.class);
    private static final RedisScript ACQUIRE = RedisScript.resource(RedisElector.class, "acquire.lua");
    private static final RedisScript RELEASE = RedisScript.resource(RedisElector.class, "release.lua");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]{1,128}");
    /** {@link Builder#confirmReplicas}' default: one replica when the node has any, else none. */
    private static final int AUTO = -1;

    private final RedisConnector redis;
    private final String service;
    private final String nodeId;
    private final Duration lease;
    private final Duration renewInterval;
    private final Duration safetyMargin;
    /** Replicas that must confirm a write before this node leads on it: AUTO, 0 (off) or a fixed count. */
    private final int confirmReplicas;
    private final Duration replicaTimeout;
    private final ScheduledThreadPoolExecutor loop;
    private final RoleListeners listeners = new RoleListeners();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String leaderKey;
    private final String epochKey;

    // Written on the loop thread, read anywhere.
    private volatile boolean holding;
    private volatile long leaseEndNanos;
    private volatile long epoch;
    private volatile String leaderId;
    private volatile boolean heardFromRedis;
    private volatile boolean partitioned;
    private boolean failing;
    private boolean unconfirmed;

    private RedisElector(Builder b) {
        this.redis = b.redis;
        this.service = b.service;
        this.nodeId = b.nodeId;
        this.lease = b.lease;
        this.renewInterval = b.renewInterval != null ? b.renewInterval : b.lease.dividedBy(3);
        this.safetyMargin = b.safetyMargin != null ? b.safetyMargin : b.lease.dividedBy(10);
        this.confirmReplicas = b.confirmReplicas;
        this.replicaTimeout = b.replicaTimeout != null ? b.replicaTimeout : b.lease.dividedBy(10);
        this.leaderKey = "braid:{elect:" + service + "}:leader";
        this.epochKey = "braid:{elect:" + service + "}:epoch";
        this.loop = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("braid-elector-" + service).daemon().factory());
        loop.setRemoveOnCancelPolicy(true);
        loop.scheduleWithFixedDelay(this::tick, 0, renewInterval.toNanos(), TimeUnit.NANOSECONDS);
    }

    public static Builder builder(RedisConnector redis) {
        return new Builder(redis);
    }

    @Override
    public Role role() {
        if (closed.get()) {
            return Role.WAIT;
        }
        if (holding) {
            return System.nanoTime() - leaseEndNanos < 0 ? Role.LEADER : Role.WAIT;
        }
        return heardFromRedis ? Role.FOLLOWER : Role.WAIT;
    }

    @Override
    public long epoch() {
        return epoch;
    }

    @Override
    public Optional<String> leader() {
        return role() == Role.LEADER ? Optional.of(nodeId) : Optional.ofNullable(holding ? null : leaderId);
    }

    @Override
    public String service() {
        return service;
    }

    public String nodeId() {
        return nodeId;
    }

    /** When the current leadership ends at the latest if not renewed; only meaningful while leading. */
    public Duration leaseRemaining() {
        return holding ? Duration.ofNanos(Math.max(0, leaseEndNanos - System.nanoTime())) : Duration.ZERO;
    }

    @Override
    public Subscription onChange(Consumer<Role> listener) {
        return listeners.add(listener);
    }

    /** On the loop: acquire or renew, then check the lease. */
    private void tick() {
        if (closed.get()) {
            return;
        }
        if (partitioned) {
            checkLease();
            return;
        }
        long sent = System.nanoTime();
        String[] keys = {leaderKey, epochKey};
        String[] args = {nodeId, Long.toString(lease.toMillis()), Long.toString(epoch)};
        if (confirmReplicas == 0) {
            redis.<List<Object>>eval(ACQUIRE, ScriptOutputType.MULTI, keys, args)
                    .whenComplete((reply, failure) -> onLoop(() -> onReply(sent, reply, failure, null)));
        } else {
            int asked = confirmReplicas == AUTO ? 1 : confirmReplicas;
            redis.<List<Object>>evalReplicated(ACQUIRE, ScriptOutputType.MULTI, keys, args, asked, replicaTimeout)
                    .whenComplete((replicated, failure) -> onLoop(() -> onReply(sent,
                            replicated != null ? replicated.reply() : null, failure, replicated)));
        }
        checkLease();
    }

    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // closed
        }
    }

    /** Whether enough replicas have this node's write (always, when confirmation is off). */
    private boolean confirmed(RedisConnector.Replicated<?> replicated) {
        if (replicated == null) {
            return true;
        }
        long required = confirmReplicas == AUTO ? Math.min(1, replicated.connectedReplicas()) : confirmReplicas;
        return replicated.acknowledged() >= required;
    }

    private void onReply(long sent, List<Object> reply, Throwable failure, RedisConnector.Replicated<?> replicated) {
        if (closed.get()) {
            return;
        }
        if (failure != null) {
            heardFromRedis = false; // who leads is unknown until Redis answers again
            if (!failing) {
                failing = true;
                log.warn("election of {}: cannot reach {} ({}); {}", service, redis.description(), failure.getMessage(),
                        holding ? "stepping down when the lease ends" : "still waiting");
            }
            checkLease();
            return;
        }
        if (failing) {
            failing = false;
            log.info("election of {}: {} answers again", service, redis.description());
        }
        long status = (Long) reply.get(0);
        long replyEpoch = (Long) reply.get(1);
        String replyLeader = String.valueOf(reply.get(2));
        heardFromRedis = true;
        if (replyEpoch < epoch) {
            log.warn("election of {}: Redis reports epoch {} below the {} already seen (data lost?)", service,
                    replyEpoch, epoch);
        }
        epoch = replyEpoch;
        leaderId = replyLeader;
        if (status == 0) {
            if (holding) {
                log.warn("election of {}: {} leads now (epoch {}); {} steps down", service, replyLeader, replyEpoch, nodeId);
            }
            holding = false;
        } else if (!confirmed(replicated)) {
            // Redis took the write but too few replicas have it: a failover now could lose it, so this
            // node does not lead on it. A lease confirmed earlier still runs out on its own.
            if (!holding) {
                heardFromRedis = false;
            }
            if (!unconfirmed) {
                unconfirmed = true;
                log.warn("election of {}: {} of {} connected replicas confirmed the lease of {} within {}; {}", service,
                        replicated.acknowledged(), replicated.connectedReplicas(), nodeId, replicaTimeout,
                        holding ? "stepping down when the confirmed lease ends" : "not leading on it");
            }
        } else {
            if (unconfirmed) {
                unconfirmed = false;
                log.info("election of {}: replicas confirm the lease of {} again", service, nodeId);
            }
            if (System.nanoTime() - (sent + lease.minus(safetyMargin).toNanos()) >= 0) {
                // The answer came too late to lead on it: this lease may already be over.
                holding = false;
            } else {
                leaseEndNanos = sent + lease.minus(safetyMargin).toNanos();
                if (!holding && status == 1) {
                    log.info("election of {}: {} leads (epoch {})", service, nodeId, replyEpoch);
                }
                holding = true;
            }
        }
        listeners.announce(role());
        scheduleLeaseCheck();
    }

    private void scheduleLeaseCheck() {
        if (holding) {
            long delay = Math.max(0, leaseEndNanos - System.nanoTime());
            loop.schedule(this::checkLease, delay, TimeUnit.NANOSECONDS);
        }
    }

    /** On the loop: a leader whose lease ran out without a confirmed renewal steps down. */
    private void checkLease() {
        if (holding && System.nanoTime() - leaseEndNanos >= 0) {
            holding = false;
            heardFromRedis = false;
            log.warn("election of {}: {} could not confirm its lease in time and steps down (epoch {})", service,
                    nodeId, epoch);
        }
        listeners.announce(role());
    }

    /** Test hook: stop talking to Redis, as a node cut off from it would; the lease check keeps running. */
    void partitionForTest() {
        partitioned = true;
    }

    /** Gives up leadership at once (the key is deleted only if it still names this node and epoch). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            loop.submit(() -> {
                boolean wasLeading = holding;
                holding = false;
                if (wasLeading && !partitioned) {
                    try {
                        redis.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {leaderKey}, nodeId + "|" + epoch)
                                .get(lease.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (Exception e) {
                        log.warn("election of {}: cannot release the lease now ({}); it ends within {}", service,
                                e.getMessage(), lease);
                    }
                }
                listeners.announce(Role.WAIT);
            }).get(lease.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("election of {}: close did not finish cleanly", service, e);
        }
        loop.shutdownNow();
        listeners.clear();
    }

    /** Settings; every setter validates at once. */
    public static final class Builder {
        private final RedisConnector redis;
        private String service;
        private String nodeId;
        private Duration lease = Duration.ofSeconds(3);
        private Duration renewInterval;
        private Duration safetyMargin;
        private int confirmReplicas = AUTO;
        private Duration replicaTimeout;

        private Builder(RedisConnector redis) {
            this.redis = Objects.requireNonNull(redis, "redis");
        }

        public Builder service(String service) {
            if (service == null || !NAME.matcher(service).matches()) {
                throw new IllegalArgumentException("service must be 1..128 of [A-Za-z0-9._-], was '" + service + "'");
            }
            this.service = service;
            return this;
        }

        public Builder nodeId(String nodeId) {
            if (nodeId == null || nodeId.isBlank() || nodeId.contains("|")) {
                throw new IllegalArgumentException("nodeId must be non-blank without '|', was '" + nodeId + "'");
            }
            this.nodeId = nodeId;
            return this;
        }

        /** How long a leadership lasts without renewal; default 3 s. */
        public Builder lease(Duration lease) {
            this.lease = Checks.positive(lease, "lease");
            return this;
        }

        /** How often the leader renews and followers try; default lease / 3. */
        public Builder renewInterval(Duration interval) {
            this.renewInterval = Checks.positive(interval, "renewInterval");
            return this;
        }

        /** How much earlier than the lease a leader stops leading (clock drift); default lease / 10. */
        public Builder safetyMargin(Duration margin) {
            this.safetyMargin = Checks.positive(margin, "safetyMargin");
            return this;
        }

        /**
         * How many replicas must confirm ({@code WAIT}) an acquisition or renewal before this node
         * leads on it: 0 turns confirmation off (one Redis without replicas, or a deliberate
         * choice), n ≥ 1 requires n (with fewer connected, the node cannot lead). Default: one,
         * whenever the node holding the lease has any replica connected, else none.
         */
        public Builder confirmReplicas(int replicas) {
            if (replicas < 0) {
                throw new IllegalArgumentException("confirmReplicas must be 0 (off) or more, was " + replicas);
            }
            this.confirmReplicas = replicas;
            return this;
        }

        /** How long a renewal waits for replicas to confirm it ({@code WAIT} timeout); default lease / 10. */
        public Builder replicaTimeout(Duration timeout) {
            this.replicaTimeout = Checks.positive(timeout, "replicaTimeout");
            return this;
        }

        public RedisElector build() {
            if (service == null || nodeId == null) {
                throw new IllegalStateException("service and nodeId are required");
            }
            Duration interval = renewInterval != null ? renewInterval : lease.dividedBy(3);
            Duration margin = safetyMargin != null ? safetyMargin : lease.dividedBy(10);
            if (interval.plus(margin).compareTo(lease) >= 0) {
                throw new IllegalStateException("renewInterval (" + interval + ") + safetyMargin (" + margin
                        + ") must be shorter than the lease (" + lease + ")");
            }
            Duration waitFor = replicaTimeout != null ? replicaTimeout : lease.dividedBy(10);
            if (waitFor.compareTo(interval) >= 0) {
                throw new IllegalStateException("replicaTimeout (" + waitFor + ") must be shorter than renewInterval ("
                        + interval + ")");
            }
            return new RedisElector(this);
        }
    }
}
