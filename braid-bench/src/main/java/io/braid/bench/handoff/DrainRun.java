package io.braid.bench.handoff;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.PlayerStates;
import io.braid.bench.core.ClosedLoop;
import io.braid.bench.core.OtherWork;
import io.braid.bench.core.Sample;
import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Usage;
import io.braid.runtime.Braid;
import io.braid.runtime.Players;
import io.braid.testkit.Await;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.HdrHistogram.Histogram;

/**
 * One drain with handoff, measured: logic nodes A and B with players (a click counter, 8 bytes of
 * snapshot) and a gateway, on the control plane {@code plane} puts them on. Every player is
 * activated on A (B starts after that), then a closed loop of clicks runs from the gateway over all
 * players; it is measured for a window before the drain, from {@code A.drain()} until its future
 * completes, and for a window after; then the loop stops and every player's count is read and
 * compared with the clicks it was told about. Not thread-safe; one run per instance. The {@code pekko}
 * section runs it too, against Pekko's hand-off.
 */
public final class DrainRun {
    static final String SERVICE = "handoff-logic";
    /** The players' one call: adds one to the player's counter, answers the new count. */
    static final String CLICK = "click";
    static final String COUNT = "count";
    private static final Duration SEE = Duration.ofSeconds(30);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(120);

    /** One player's state: its clicks. */
    static final class Counter {
        long count;
    }

    /** How many activations and deactivations one node saw, by kind. */
    static final class NodeEvents {
        final AtomicLong fresh = new AtomicLong();
        final AtomicLong handoff = new AtomicLong();
        final AtomicLong moved = new AtomicLong();
        final AtomicLong otherEnds = new AtomicLong();
    }

    /**
     * What one phase of the loop measured.
     *
     * @param sample   throughput, latency and this JVM's allocation and CPU per click
     * @param failures the clicks that failed in the phase, by code
     * @param nanos    how long the phase took
     */
    public record Phase(Sample sample, Map<String, Long> failures, long nanos) {
        public long failed() {
            return failures.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * The run's figures.
     *
     * @param before         the loop before the drain
     * @param during         the loop from {@code drain()} until its future completed
     * @param after          the loop after the drain
     * @param drainNanos     {@code drain()} until its future completed
     * @param handedOver     players B activated from a handoff
     * @param freshOnB       players B activated afresh while the loop ran (each one's state was not handed over)
     * @param movedOffA      activations A ended with MOVED
     * @param tally          the counts read at the end against the acknowledged clicks
     * @param otherWorkShare the share of the machine's CPU time other work took during the drain (NaN: unknown)
     * @param failedInAll    every click of the loop that failed, warm-up and the gaps between phases included
     * @param loadAtDrain    the machine's load average (1 min) when the drain started
     * @param failureSamples per failure code, the message of the first click that failed with it
     */
    public record Result(Phase before, Phase during, Phase after, long drainNanos, long handedOver, long freshOnB,
                  long movedOffA, ClickLedger.Tally tally, double otherWorkShare, long failedInAll,
                  String loadAtDrain, Map<String, String> failureSamples) {
    }

    private final int players;
    private final int inFlight;
    private final UnaryOperator<Braid.Builder> plane;
    private final NodeEvents eventsA = new NodeEvents();
    private final NodeEvents eventsB = new NodeEvents();

    /**
     * @param players  how many players are activated on A and clicked
     * @param inFlight clicks in flight (one gateway, one connection per peer)
     * @param plane    puts a node's builder on the run's control plane (in-memory or one Redis)
     */
    public DrainRun(int players, int inFlight, UnaryOperator<Braid.Builder> plane) {
        this.players = players;
        this.inFlight = inFlight;
        this.plane = plane;
    }

    public Result run(Duration warmup, Duration measure) throws Exception {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            Braid a = push(opened, logic("logic-a", eventsA));
            Braid gateway = push(opened, plane.apply(Braid.builder().service("handoff-gateway").nodeId("gateway")
                    .ioThreads(1)).start());
            Await.until(SEE, "the gateway sees logic-a", () -> gateway.discover().nodes(SERVICE).size() == 1);

            String[] tokens = new String[players];
            for (int i = 0; i < players; i++) {
                tokens[i] = "player-" + i;
            }
            ClickLedger ledger = new ClickLedger(players);
            activateAll(gateway, tokens, ledger);
            if (eventsA.fresh.get() != players) {
                throw new IllegalStateException("logic-a activated " + eventsA.fresh.get() + " of " + players
                        + " players");
            }

            push(opened, logic("logic-b", eventsB));
            Await.until(SEE, "the gateway sees logic-b", () -> gateway.discover().nodes(SERVICE).size() == 2);
            Await.until(SEE, "logic-a sees logic-b", () -> a.discover().nodes(SERVICE).size() == 2);

            CallOptions clickOptions = CallOptions.DEFAULT.withTimeout(CALL_TIMEOUT);
            // each click acknowledged goes into the ledger; a failed one is named by its code
            ClosedLoop<Int64Value> loop = new ClosedLoop<>("clicks", tokens.length,
                    player -> gateway.invoke(SERVICE, CLICK, tokens[player], StringValue.getDefaultInstance(),
                            Int64Value.parser(), clickOptions),
                    (player, answer, endedNanos) -> ledger.acknowledged(player), cause -> {
                        BraidException failure = BraidException.from(cause);
                        return new ClosedLoop.Kind(failure.code().name(), failure.getMessage());
                    });
            loop.start(inFlight);
            Phase before;
            Phase during;
            Phase after;
            long drainNanos;
            OtherWork workAtDrain;
            OtherWork workAfterDrain;
            String loadAtDrain;
            try {
                TimeUnit.NANOSECONDS.sleep(warmup.toNanos());
                before = measured(loop, () -> TimeUnit.NANOSECONDS.sleep(measure.toNanos()));
                workAtDrain = OtherWork.read();
                loadAtDrain = loadAverage();
                long[] took = new long[1];
                during = measured(loop, () -> {
                    long start = System.nanoTime();
                    CompletableFuture<Void> drained = a.drain();
                    drained.get(DRAIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    took[0] = System.nanoTime() - start;
                });
                drainNanos = took[0];
                workAfterDrain = OtherWork.read();
                after = measured(loop, () -> TimeUnit.NANOSECONDS.sleep(measure.toNanos()));
            } finally {
                loop.stop(Duration.ofSeconds(30));
            }
            long handedOver = eventsB.handoff.get();
            long freshOnB = eventsB.fresh.get();
            long movedOffA = eventsA.moved.get();
            ClickLedger.Tally tally = ledger.tally(counts(gateway, tokens));
            double share = workAtDrain == null || workAfterDrain == null ? Double.NaN
                    : workAfterDrain.shareSince(workAtDrain);
            return new Result(before, during, after, drainNanos, handedOver, freshOnB, movedOffA, tally, share,
                    loop.failures().size(), loadAtDrain, loop.firstMessages());
        } finally {
            while (!opened.isEmpty()) {
                opened.pop().close();
            }
        }
    }

    private Braid logic(String id, NodeEvents events) {
        Players<Counter> counters = Players.of(new PlayerStates<Counter>() {
            @Override
            public Counter activate(String token, Activation how, byte[] snapshot) {
                Counter counter = new Counter();
                if (how == Activation.HANDOFF) {
                    counter.count = ByteBuffer.wrap(snapshot).getLong();
                    events.handoff.incrementAndGet();
                } else {
                    events.fresh.incrementAndGet();
                }
                return counter;
            }

            @Override
            public byte[] snapshot(Counter state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state.count).array();
            }

            @Override
            public void deactivate(Counter state, Deactivation why) {
                (why == Deactivation.MOVED ? events.moved : events.otherEnds).incrementAndGet();
            }
        }).handle(CLICK, StringValue.parser(), (player, ctx, request) -> Int64Value.of(++player.state().count))
                .handle(COUNT, StringValue.parser(), (player, ctx, request) -> Int64Value.of(player.state().count));
        return plane.apply(Braid.builder().service(SERVICE).nodeId(id).ioThreads(1).players(counters)
                .drainTimeout(DRAIN_TIMEOUT)).start();
    }

    /** Clicks every player once, {@link #inFlight} at a time: each is activated on logic-a. */
    private void activateAll(Braid gateway, String[] tokens, ClickLedger ledger) throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CallOptions options = CallOptions.DEFAULT.withTimeout(CALL_TIMEOUT);
        for (int i = 0; i < tokens.length && failed.get() == null; i++) {
            permits.acquire();
            int player = i;
            gateway.invoke(SERVICE, CLICK, tokens[i], StringValue.getDefaultInstance(), Int64Value.parser(),
                    options).whenComplete((answer, error) -> {
                        if (error == null) {
                            ledger.acknowledged(player);
                        } else {
                            failed.compareAndSet(null, error);
                        }
                        permits.release();
                    });
        }
        permits.acquire(inFlight);
        if (failed.get() != null) {
            throw new IllegalStateException("activating the players failed", failed.get());
        }
    }

    /** Each player's count as its state holds it now, {@link #inFlight} reads at a time. */
    private long[] counts(Braid gateway, String[] tokens) throws InterruptedException {
        long[] counts = new long[tokens.length];
        Semaphore permits = new Semaphore(inFlight);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        CallOptions options = CallOptions.DEFAULT.withTimeout(CALL_TIMEOUT);
        for (int i = 0; i < tokens.length && failed.get() == null; i++) {
            permits.acquire();
            int player = i;
            gateway.invoke(SERVICE, COUNT, tokens[i], StringValue.getDefaultInstance(), Int64Value.parser(), options)
                    .whenComplete((answer, error) -> {
                        if (error == null) {
                            counts[player] = answer.getValue();
                        } else {
                            failed.compareAndSet(null, error);
                        }
                        permits.release();
                    });
        }
        permits.acquire(inFlight); // also makes every write to counts visible here
        if (failed.get() != null) {
            throw new IllegalStateException("reading the players' counts failed", failed.get());
        }
        return counts;
    }

    /** A body that may block. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /** The loop's figures while {@code body} runs. */
    private static Phase measured(ClosedLoop<?> loop, Body body) throws Exception {
        loop.interval();
        Usage usage0 = ThisJvm.METER.read();
        long ops0 = loop.completed();
        long start = System.nanoTime();
        body.run();
        long end = System.nanoTime();
        long ops = loop.completed() - ops0;
        Histogram latency = loop.interval();
        Usage usage = ThisJvm.METER.read().minus(usage0);
        Map<String, Long> failures = loop.failuresBetween(start, end);
        long failed = failures.values().stream().mapToLong(Long::longValue).sum();
        double perOp = Math.max(1, ops);
        double bytes = usage.allocatedBytes() == Usage.UNKNOWN ? Double.NaN : usage.allocatedBytes() / perOp;
        double cpu = usage.cpuNanos() == Usage.UNKNOWN ? Double.NaN : usage.cpuNanos() / 1e3 / perOp;
        long nanos = end - start;
        Sample sample = new Sample(ops * 1e9 / nanos, micros(latency, 50), micros(latency, 99),
                micros(latency, 99.9), failed, bytes, Double.NaN, cpu);
        return new Phase(sample, failures, nanos);
    }

    private static double micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1e3;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }
}
