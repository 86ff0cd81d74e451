package io.braid.monitor.internal;

import io.braid.api.PlayerStates.Activation;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.internal.PlayerListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Records what a node's {@link PlayerListener} hears as the player and fence meters
 * {@link BraidMeters} names, tagged with the node's service. Every meter is registered when this
 * is made, each counter with every value of its tag at 0, so {@code /metrics} shows the families
 * (and rates start from 0) before the first player comes. Finding a meter allocates nothing: they
 * are kept in enum maps.
 *
 * <p>{@value BraidMeters#PLAYERS_ACTIVE} is the activations told minus the deactivations told (the
 * listener's contract tells each exactly once). {@value BraidMeters#NODE_FENCED} is the last of
 * {@link #fenceClosed}/{@link #fenceOpened} told, after asking the fence the node lent
 * ({@link #watchFence}), so a scrape sees the fence as it is then. Thread-safe.
 */
final class PlayerMeters implements PlayerListener {
    private final MeterRegistry registry;
    private final AtomicLong active = new AtomicLong();
    private final AtomicInteger fenced = new AtomicInteger();
    /** The node's fence, asked when the gauge is read; null until the node lends it. */
    private volatile BooleanSupplier fence;
    private final Map<Activation, Counter> activations = new EnumMap<>(Activation.class);
    private final Map<Deactivation, Counter> deactivations = new EnumMap<>(Deactivation.class);
    private final Map<NotMoved, Counter> notHandedOver = new EnumMap<>(NotMoved.class);
    private final Map<SaveOutcome, Counter> saves = new EnumMap<>(SaveOutcome.class);
    private final Counter handedOver;
    private final Timer handoffDuration;
    private final Counter received;
    private final Counter rebalanceMoves;
    private final Counter fenceClosures;
    /** Spans per hand-over; null when not tracing. */
    private volatile HandoffTracing handoffs;
    /** The gauges, which hold this object: taken out of the registry again by {@link #remove()}. */
    private final List<Meter> gauges = new ArrayList<>();

    PlayerMeters(MeterRegistry registry, String service) {
        this.registry = registry;
        gauges.add(Gauge.builder(BraidMeters.PLAYERS_ACTIVE, active, AtomicLong::get)
                .description("Players active on this node now").tag(BraidMeters.TAG_SERVICE, service)
                .register(registry));
        gauges.add(Gauge.builder(BraidMeters.NODE_FENCED, this, PlayerMeters::fenced)
                .description("1 while this node's self-fence is closed (it refuses its players' calls), else 0")
                .tag(BraidMeters.TAG_SERVICE, service).register(registry));
        for (Activation how : Activation.values()) {
            activations.put(how, counter(BraidMeters.PLAYERS_ACTIVATIONS, "Players activated on this node, by how",
                    service, BraidMeters.TAG_HOW, lower(how)));
        }
        for (Deactivation why : Deactivation.values()) {
            deactivations.put(why, counter(BraidMeters.PLAYERS_DEACTIVATIONS,
                    "Activations on this node that ended, by why", service, BraidMeters.TAG_WHY, lower(why)));
        }
        String handoffs = "Hand-overs of this node's players to other nodes, by outcome";
        handedOver = counter(BraidMeters.PLAYERS_HANDOFFS, handoffs, service, BraidMeters.TAG_OUTCOME,
                BraidMeters.OUTCOME_HANDED_OVER);
        for (NotMoved why : NotMoved.values()) {
            notHandedOver.put(why, counter(BraidMeters.PLAYERS_HANDOFFS, handoffs, service, BraidMeters.TAG_OUTCOME,
                    lower(why)));
        }
        for (SaveOutcome outcome : SaveOutcome.values()) {
            saves.put(outcome, counter(BraidMeters.PLAYERS_SAVES, "Saves of players' state to their store, by outcome",
                    service, BraidMeters.TAG_OUTCOME, lower(outcome)));
        }
        handoffDuration = Timer.builder(BraidMeters.PLAYERS_HANDOFF_DURATION)
                .description("Hand-overs that moved a player, from the offer to the known outcome")
                .tag(BraidMeters.TAG_SERVICE, service)
                .publishPercentiles(0.99)
                .distributionStatisticExpiry(Duration.ofMinutes(1))
                .register(registry);
        received = counter(BraidMeters.PLAYERS_RECEIVED, "Players other nodes handed over to this node", service);
        rebalanceMoves = counter(BraidMeters.PLAYERS_REBALANCE_MOVES,
                "Players this node's rebalance rounds set out to move to other nodes", service);
        fenceClosures = counter(BraidMeters.NODE_FENCE_CLOSURES, "Times this node's self-fence closed", service);
    }

    private Counter counter(String name, String description, String service, String... tags) {
        Counter counter = Counter.builder(name).description(description).tag(BraidMeters.TAG_SERVICE, service)
                .tags(tags).register(registry);
        return counter;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void activated(Activation how) {
        active.incrementAndGet();
        activations.get(how).increment();
    }

    @Override
    public void deactivated(Deactivation why) {
        active.decrementAndGet();
        deactivations.get(why).increment();
    }

    @Override
    public void handedOver(String toNode, Duration took) {
        handedOver.increment();
        handoffDuration.record(took);
    }

    /** Makes a span per hand-over from now on. */
    void traceHandoffs(HandoffTracing tracing) {
        this.handoffs = tracing;
    }

    @Override
    public void handOverEnded(String token, String toNode, NotMoved notMoved, Duration took) {
        HandoffTracing tracing = handoffs;
        if (tracing != null) {
            tracing.handOverEnded(token, toNode, notMoved, took);
        }
    }

    @Override
    public void handOverReceived(String token, long epoch, Duration held) {
        HandoffTracing tracing = handoffs;
        if (tracing != null) {
            tracing.handOverReceived(token, epoch, held);
        }
    }

    @Override
    public void notHandedOver(NotMoved why) {
        notHandedOver.get(why).increment();
    }

    @Override
    public void received() {
        received.increment();
    }

    @Override
    public void saved(SaveOutcome outcome) {
        saves.get(outcome).increment();
    }

    @Override
    public void rebalanced(int moves) {
        rebalanceMoves.increment(moves);
    }

    @Override
    public void fenceClosed() {
        fenced.set(1);
        fenceClosures.increment();
    }

    @Override
    public void fenceOpened() {
        fenced.set(0);
    }

    @Override
    public void watchFence(BooleanSupplier open) {
        this.fence = open;
    }

    /** The gauge's value: the fence is asked first (that tells a change), then its last told state read. */
    private double fenced() {
        BooleanSupplier ask = fence;
        if (ask != null) {
            ask.getAsBoolean();
        }
        return fenced.get();
    }

    /** Takes the gauges out of the registry (one the node borrowed outlives it); the counts stay. */
    void remove() {
        gauges.forEach(registry::remove);
    }
}
