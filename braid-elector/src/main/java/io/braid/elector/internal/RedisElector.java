package io.braid.elector.internal;

import io.braid.api.Elector;
import io.braid.api.Role;
import io.braid.api.Subscription;
import io.braid.api.Ticker;
import io.braid.api.internal.Checks;
import io.braid.api.internal.SerialScheduler;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on Redis: a lease key per service, acquired and renewed by one script that
 * checks ownership, and a fencing epoch, kept in a key of its own, that grows for every new leader.
 *
 * <p>What we guarantee, and what we do not: Redis is not a consensus store. With one Redis, at
 * most one node believes it leads at any moment, provided clocks advance at the same rate within
 * {@code safetyMargin} over a lease: a leader counts its lease from the moment it <em>sent</em> the
 * last confirmed renewal and stops leading {@code safetyMargin} before that lease ends, even while
 * frozen (the check runs when {@link #role()} is asked).
 *
 * <p>Data loss (FLUSHALL, a restart without persistence): the same holds, and {@link #epoch()}
 * never goes down. Every call sends the highest epoch this node has seen as a floor, and the script
 * writes it back when the epoch key is missing or lower. A lease key that is missing while the
 * epoch key is intact proves that the last lease expired or was released in Redis: the candidate
 * leads at once. When the epoch key is missing or below the floor, or the lease key names an epoch
 * below it (such a key is taken over), data was lost and an earlier leader may still be leading
 * on a lease it counts from before the loss: the candidate takes the key with an epoch above the
 * floor but leads only one whole lease after its answer arrived (its role stays WAIT meanwhile),
 * and a leader whose renewal finds its key gone or taken steps down at once. So the next leader's
 * epoch is above every epoch seen by a node that talked to Redis after the loss, a node that joins
 * right after it included ({@code ElectorDataLossContract}, on one Redis and on a Cluster). The
 * price: a brand-new deployment cannot be told from one that lost its data, so its first leader
 * waits one lease, once. What remains: a lease key lost on its own (evicted: run Redis with
 * {@code maxmemory-policy noeviction}; deleted by hand) looks like a lease that ended; and epochs
 * seen only by nodes that are gone when the data is lost cannot be restored.
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
 * {@code braid:{elect:S}:epoch}. Defaults: lease 3 s, renewal every lease/3, margin lease/10;
 * {@link Builder#build()} refuses settings under which a healthy leader would flap. Thread-safe;
 * renewals and role announcements run one task at a time, on a thread of its own or on the
 * {@link Builder#scheduler} given (borrowed, never closed here); the lease is timed on the
 * {@link Builder#ticker}. {@link #close()} is idempotent.
 */
public final class RedisElector implements Elector {
    private static final Logger log = LoggerFactory.getLogger(RedisElector.class);
    private static final RedisScript ACQUIRE = RedisScript.resource(RedisElector.class, "acquire.lua");
    private static final RedisScript RELEASE = RedisScript.resource(RedisElector.class, "release.lua");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]{1,128}");
    /** acquire.lua's answers (2, renewed, needs no name here). */
    private static final long OTHER_HOLDS = 0;
    private static final long ACQUIRED = 1;
    private static final long ACQUIRED_AFTER_LOSS = 3;
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
    /** Every timing policy reads this: the lease, its renewal's send time, the wait after a data loss. */
    private final Ticker ticker;
    /** Renews and announces one task at a time, on a thread of its own or a borrowed scheduler. */
    private final SerialScheduler loop;
    private final RoleListeners listeners = new RoleListeners();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final String leaderKey;
    private final String epochKey;

    // Written on the loop thread, read anywhere.
    private volatile Standing standing = new Standing(null, 0);
    private volatile String leaderId;
    private volatile boolean heardFromRedis;
    private volatile boolean partitioned;
    /** The highest epoch {@link #epoch()} has returned: what makes it monotonic for every caller. */
    private final AtomicLong reportedEpoch = new AtomicLong();
    // Loop thread only.
    /** The highest epoch this node has seen in any reply: the floor it sends with every acquisition. */
    private long seen;
    /** The lease this process acquired last (its epoch and the moment it may lead on it), also once lapsed. */
    private Lease acquired;
    private boolean failing;
    private boolean unconfirmed;

    /**
     * A lease this node holds in Redis: it leads on it from {@code leadFromNanos} (later than the
     * acquisition when Redis had lost data, see the class description) until {@code endNanos}.
     */
    private record Lease(long epoch, long leadFromNanos, long endNanos) {
        boolean leads(long now) {
            return now - leadFromNanos >= 0 && now - endNanos < 0;
        }

        boolean begun(long now) {
            return now - leadFromNanos >= 0;
        }
    }

    /** One snapshot of where this node stands: the lease it holds (null: none) and the epoch it knows otherwise. */
    private record Standing(Lease lease, long epoch) {
        long visibleEpoch(long now) {
            return lease != null && lease.begun(now) ? Math.max(epoch, lease.epoch()) : epoch;
        }
    }

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
        this.ticker = b.ticker;
        this.loop = SerialScheduler.borrowingOrOwning(b.scheduler,
                Thread.ofPlatform().name("braid-elector-" + service).daemon().factory());
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
        Lease held = standing.lease();
        if (held != null) {
            return held.leads(ticker.read()) ? Role.LEADER : Role.WAIT;
        }
        return heardFromRedis ? Role.FOLLOWER : Role.WAIT;
    }

    /**
     * The fencing epoch of the leadership this node last saw, or of its own while it leads; 0 before
     * any. It never goes down, even when Redis lost its data and holds a lower one; while this node
     * waits out a lease it took after a loss, it still reports the epoch it knew before.
     */
    @Override
    public long epoch() {
        long now = ticker.read(); // before the read: a stale snapshot is never judged at a later time
        long visible = standing.visibleEpoch(now);
        return reportedEpoch.accumulateAndGet(visible, Math::max);
    }

    @Override
    public Optional<String> leader() {
        if (role() == Role.LEADER) {
            return Optional.of(nodeId);
        }
        return Optional.ofNullable(standing.lease() != null ? null : leaderId);
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
        Lease held = standing.lease();
        return held != null ? Duration.ofNanos(Math.max(0, held.endNanos() - ticker.read())) : Duration.ZERO;
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
        long sent = ticker.read();
        String[] keys = {leaderKey, epochKey};
        String[] args = {nodeId, Long.toString(lease.toMillis()), Long.toString(seen)};
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
                        standing.lease() != null ? "stepping down when the lease ends" : "still waiting");
            }
            checkLease();
            return;
        }
        if (failing) {
            failing = false;
            log.info("election of {}: {} answers again", service, redis.description());
        }
        long received = ticker.read();
        long status = (Long) reply.get(0);
        long replyEpoch = (Long) reply.get(1);
        String replyLeader = String.valueOf(reply.get(2));
        heardFromRedis = true;
        boolean knewAnEpoch = seen > 0;
        seen = Math.max(seen, replyEpoch);
        leaderId = replyLeader;
        Lease held = standing.lease();
        if (status == OTHER_HOLDS) {
            if (held != null) {
                log.warn("election of {}: {} holds the lease now (epoch {}); {} steps down at once", service, replyLeader,
                        replyEpoch, nodeId);
            }
            stand(null, replyEpoch); // a follower takes the leader's epoch, never a lower one than it knew
        } else {
            boolean acquiredNow = status == ACQUIRED || status == ACQUIRED_AFTER_LOSS;
            if (acquiredNow && held != null) {
                // The lease this node held is gone from Redis (FLUSHALL, a restart without data, an
                // eviction): it does not lead on it a moment longer.
                log.warn("election of {}: the lease of {} (epoch {}) vanished from Redis; it steps down at once", service,
                        nodeId, held.epoch());
                stand(null, 0);
            }
            if (!confirmed(replicated)) {
                // Redis took the write but too few replicas have it: a failover now could lose it, so this
                // node does not lead on it. A lease confirmed earlier still runs out on its own.
                if (standing.lease() == null) {
                    heardFromRedis = false;
                }
                if (!unconfirmed) {
                    unconfirmed = true;
                    log.warn("election of {}: {} of {} connected replicas confirmed the lease of {} within {}; {}", service,
                            replicated.acknowledged(), replicated.connectedReplicas(), nodeId, replicaTimeout,
                            standing.lease() != null ? "stepping down when the confirmed lease ends" : "not leading on it");
                }
                if (acquiredNow) {
                    acquired = new Lease(replyEpoch, leadFrom(status, held, sent, received), 0);
                }
            } else {
                if (unconfirmed) {
                    unconfirmed = false;
                    log.info("election of {}: replicas confirm the lease of {} again", service, nodeId);
                }
                long end = sent + lease.minus(safetyMargin).toNanos();
                long leadFrom;
                if (acquiredNow) {
                    leadFrom = leadFrom(status, held, sent, received);
                    acquired = new Lease(replyEpoch, leadFrom, end);
                    if (leadFrom == sent) {
                        log.info("election of {}: {} leads (epoch {})", service, nodeId, replyEpoch);
                    } else if (knewAnEpoch) {
                        log.warn("election of {}: {} took the lease at epoch {} after Redis lost the election's data;"
                                + " it leads in {} ms, when any earlier leader's lease has ended", service, nodeId,
                                replyEpoch, lease.toMillis());
                    } else {
                        log.info("election of {}: {} took the lease at epoch {}; Redis holds no epoch for the service"
                                + " (a new deployment, or its data was lost), so it leads in {} ms, when any earlier"
                                + " leader's lease has ended", service, nodeId, replyEpoch, lease.toMillis());
                    }
                } else if (held != null) {
                    leadFrom = held.leadFromNanos(); // a renewal: the wait, if any, goes on
                } else if (acquired != null && acquired.epoch() == replyEpoch) {
                    leadFrom = acquired.leadFromNanos(); // this process's lease, confirmed again after it lapsed here
                } else {
                    // A lease under this node's id that another process left (a restart with the same id):
                    // when it was taken, and so whether an earlier lease could still run, is unknown.
                    leadFrom = received + lease.toNanos();
                    acquired = new Lease(replyEpoch, leadFrom, end);
                }
                if (received - end >= 0) {
                    // The answer came too late to lead on it: this lease may already be over.
                    stand(null, 0);
                } else {
                    stand(new Lease(replyEpoch, leadFrom, end), 0);
                }
            }
        }
        listeners.announce(role());
        scheduleLeaseCheck();
    }

    /**
     * When a lease just acquired may be led on: at once, when Redis proved that every earlier lease
     * ended (it expired or was released there, the epoch key intact); one whole lease after this
     * answer when Redis had lost data, or when this node held a lease that vanished: an earlier
     * leader counts its lease from before the loss, so it has stepped down by then.
     */
    private long leadFrom(long status, Lease held, long sent, long received) {
        return status == ACQUIRED && held == null ? sent : received + lease.toNanos();
    }

    /** Replaces where this node stands; the epoch it knows never goes down, and includes a lease it led on. */
    private void stand(Lease held, long epoch) {
        long known = standing.visibleEpoch(ticker.read());
        standing = new Standing(held, Math.max(known, epoch));
    }

    private void scheduleLeaseCheck() {
        Lease held = standing.lease();
        if (held != null) {
            long now = ticker.read();
            if (held.leadFromNanos() - now > 0) {
                loop.schedule(this::checkLease, held.leadFromNanos() - now, TimeUnit.NANOSECONDS); // announces LEADER
            }
            loop.schedule(this::checkLease, Math.max(0, held.endNanos() - now), TimeUnit.NANOSECONDS);
        }
    }

    /** On the loop: a leader whose lease ran out without a confirmed renewal steps down; a wait that ended is told. */
    private void checkLease() {
        Lease held = standing.lease();
        if (held != null && ticker.read() - held.endNanos() >= 0) {
            stand(null, 0);
            heardFromRedis = false;
            log.warn("election of {}: {} could not confirm its lease in time and steps down (epoch {})", service,
                    nodeId, held.epoch());
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
            CompletableFuture.runAsync(() -> {
                Lease held = standing.lease();
                // Only a lease this node led on is released. One still waiting out a data loss is left to
                // expire: deleting it would let the next candidate lead at once while an earlier leader may
                // still hold its lease.
                boolean wasLeading = held != null && held.leads(ticker.read());
                stand(null, 0);
                if (wasLeading && !partitioned) {
                    try {
                        redis.eval(RELEASE, ScriptOutputType.INTEGER, new String[] {leaderKey}, nodeId + "|" + held.epoch())
                                .get(lease.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (Exception e) {
                        log.warn("election of {}: cannot release the lease now ({}); it ends within {}", service,
                                e.getMessage(), lease);
                    }
                }
                listeners.announce(Role.WAIT);
            }, loop).get(lease.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("election of {}: close did not finish cleanly", service, e);
        }
        loop.close();
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
        private Ticker ticker = Ticker.system();
        private ScheduledExecutorService scheduler;

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

        /**
         * How long a leadership lasts without renewal; default 3 s. Every candidate of a service must
         * use the same lease: after a data loss a candidate waits one of its own leases for an earlier
         * leader's to end.
         */
        public Builder lease(Duration lease) {
            this.lease = Checks.positive(lease, "lease");
            return this;
        }

        /**
         * How often the leader renews and followers try; default lease / 3. With the margin (and
         * {@link #replicaTimeout} when replicas confirm), two renewals must fit in the lease: see {@link #build()}.
         */
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

        /**
         * The clock of the lease: when a renewal was sent, when the lease ends, when a wait after a
         * data loss is over; default {@link Ticker#system()}. Tests move one by hand.
         */
        public Builder ticker(Ticker ticker) {
            this.ticker = Objects.requireNonNull(ticker, "ticker");
            return this;
        }

        /**
         * Where renewals and role announcements run, one task at a time; borrowed: its owner closes
         * it, {@link RedisElector#close()} only stops this elector's tasks on it. Default: a thread
         * of this elector's own, closed with it.
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Builds the elector and starts its election.
         *
         * @throws IllegalStateException without a service or node id; when {@code 2 × renewInterval +
         *         safetyMargin} (plus {@code replicaTimeout} unless {@code confirmReplicas(0)}) exceeds the
         *         lease, as a healthy leader would then step down on one late renewal; or when
         *         {@code replicaTimeout} is not shorter than {@code renewInterval}
         */
        public RedisElector build() {
            if (service == null || nodeId == null) {
                throw new IllegalStateException("service and nodeId are required");
            }
            Duration interval = renewInterval != null ? renewInterval : lease.dividedBy(3);
            Duration margin = safetyMargin != null ? safetyMargin : lease.dividedBy(10);
            Duration waitFor = replicaTimeout != null ? replicaTimeout : lease.dividedBy(10);
            if (waitFor.compareTo(interval) >= 0) {
                throw new IllegalStateException("replicaTimeout (" + waitFor + ") must be shorter than renewInterval ("
                        + interval + ")");
            }
            // A healthy leader must not flap: it gets two renewals, each confirmed within replicaTimeout
            // when replicas confirm, before its lease less the margin runs out, so one late or lost reply
            // does not step it down.
            Duration twoRenewals = interval.multipliedBy(2).plus(margin);
            String rule = "2 × renewInterval + safetyMargin";
            if (confirmReplicas != 0) {
                twoRenewals = twoRenewals.plus(waitFor);
                rule += " + replicaTimeout";
            }
            if (twoRenewals.compareTo(lease) > 0) {
                throw new IllegalStateException(rule + " must be at most the lease, so that a healthy leader renews twice"
                        + " within it: renewInterval " + interval + ", safetyMargin " + margin
                        + (confirmReplicas != 0 ? ", replicaTimeout " + waitFor : "") + " add up to " + twoRenewals
                        + ", above the lease (" + lease + ")");
            }
            return new RedisElector(this);
        }
    }
}
