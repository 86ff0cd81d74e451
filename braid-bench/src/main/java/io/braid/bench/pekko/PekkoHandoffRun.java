package io.braid.bench.pekko;

import io.braid.bench.core.ClosedLoop;
import io.braid.bench.core.Sample;
import io.braid.bench.core.ThisJvm;
import io.braid.bench.core.Usage;
import io.braid.bench.rpc.ServerProcess;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Pekko's hand-off, measured the way the handoff section measures braid's drain: node A (its own
 * JVM) starts the cluster and the caller member (this JVM, a shard-region proxy) activates every
 * entity on it (one ask each: A is the only entity node, so it gets every shard); then node B
 * joins (periodic rebalance is off, so nothing moves yet) and a closed loop of asks runs over all
 * entities. It is measured for a window before, from the caller's {@code Leave} for A until the
 * caller sees A removed from the cluster (A's coordinated shutdown hands its shards off to B
 * first, then A exits), and for a window after ({@link #afterWindow}); then the loop goes on until every entity has
 * answered from B (at most a minute). An ask that fails is counted in the phase in which it ended;
 * those from the leave on are also counted until the loop stopped (an ask the hand-off dropped ends
 * only at its timeout). Not thread-safe; one run per instance.
 */
final class PekkoHandoffRun {
    /** Activation is not measured: a cold JVM on a busy machine may take longer than an ask's timeout. */
    private static final Duration ACTIVATE_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration LEAVE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration SEE = Duration.ofSeconds(60);
    /** How long the loop may run after the measured windows for every entity to answer from b. */
    private static final Duration EVERY_FROM_B = Duration.ofSeconds(60);
    private static final int PAYLOAD = 64;

    /**
     * One phase of the loop.
     *
     * @param sample   throughput, latency; B/op load side for the caller JVM, serving side for A and B, CPU all three
     * @param failures the asks that failed in the phase, by exception class
     * @param nanos    how long the phase took
     */
    record Phase(Sample sample, Map<String, Long> failures, long nanos) {
        long failed() {
            return failures.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * @param before          the loop before the leave
     * @param during          from the leave until A was removed
     * @param after           the loop after that
     * @param handOffNanos    from the leave until the caller saw A removed
     * @param everyFromBNanos from the leave until the last entity first answered from B; 0 when some never did
     * @param answeredFromB   entities that answered from B by the end of the loop
     * @param failedFromLeave the asks that failed from the leave until the loop stopped (each one ends by its timeout)
     * @param failedFromLeaveByKind the same, by exception class
     * @param failedInAll     every ask that failed, warm-up and gaps included
     * @param failureSamples  per kind, the first failure's message
     */
    record Result(Phase before, Phase during, Phase after, long handOffNanos, long everyFromBNanos,
                  int answeredFromB, long failedFromLeave, Map<String, Long> failedFromLeaveByKind,
                  long failedInAll, Map<String, String> failureSamples) {
    }

    private final int entities;
    private final int inFlight;
    private final Duration askTimeout;

    /**
     * @param askTimeout how long each ask of the loop may take; an ask the hand-off dropped fails
     *                   only then, so it also sets the window after the hand-off ({@link #afterWindow})
     */
    PekkoHandoffRun(int entities, int inFlight, Duration askTimeout) {
        this.entities = entities;
        this.inFlight = inFlight;
        this.askTimeout = askTimeout;
    }

    /**
     * The window after the hand-off: at least an ask's timeout and a second more. Asks the hand-off
     * dropped end only at their timeout, and while all of the loop's asks wait for theirs nothing ends:
     * a shorter window (2 s at {@code full} with its 5 s timeout, 0.4 s in the smoke with its 1 s
     * timeout) could see no ask end at all, which reads as a broken harness. This long, the dropped
     * asks fail inside it and the loop goes on.
     */
    static Duration afterWindow(Duration measure, Duration askTimeout) {
        Duration least = askTimeout.plusSeconds(1);
        return measure.compareTo(least) >= 0 ? measure : least;
    }

    Result run(Duration warmup, Duration measure) throws Exception {
        Deque<AutoCloseable> opened = new ArrayDeque<>();
        try {
            ServerProcess a = push(opened, ServerProcess.startMain("pekko-a", PekkoNodeMain.class, List.of("a", "0")));
            PekkoMember caller = push(opened, PekkoMember.start("caller", PekkoMember.CALLER_ROLE, a.port()));
            Await.until(SEE, "the caller sees node a Up", () -> caller.upWithRole(PekkoMember.ENTITY_ROLE) == 1);
            PekkoAskLoad asks = new PekkoAskLoad(caller, entities, new byte[PAYLOAD], askTimeout);
            activateAll(asks);
            ServerProcess b = push(opened, ServerProcess.startMain("pekko-b", PekkoNodeMain.class,
                    List.of("b", Integer.toString(a.port()))));
            Await.until(SEE, "the caller sees node b Up", () -> caller.upWithRole(PekkoMember.ENTITY_ROLE) == 2);
            Usage.Meter servers = () -> sum(a.meter().read(), b.meter().read());

            FirstAnswers firstAnswers = new FirstAnswers(asks.entityCount(), "b");
            // a failed ask is named by its exception's class: TimeoutException for one that timed out
            ClosedLoop<PekkoCounter.Value> loop = new ClosedLoop<>("asks", asks.entityCount(), asks::increment,
                    firstAnswers::answered, cause -> new ClosedLoop.Kind(cause.getClass().getSimpleName(),
                            cause.getMessage()));
            loop.start(inFlight);
            Phase before;
            Phase during;
            Phase after;
            long leaveAt;
            long removedAt;
            try {
                TimeUnit.NANOSECONDS.sleep(warmup.toNanos());
                before = measured(loop, servers, () -> TimeUnit.NANOSECONDS.sleep(measure.toNanos()));
                if (firstAnswers.fromWatched() != 0) {
                    throw new IllegalStateException(firstAnswers.fromWatched()
                            + " entities answered from b before a left: shards moved early");
                }
                long[] times = new long[2];
                during = measured(loop, servers, () -> {
                    times[0] = System.nanoTime();
                    caller.makeLeave(a.port());
                    Await.until(LEAVE_TIMEOUT, "node a is removed from the cluster",
                            () -> !caller.seesMemberAt(a.port()));
                    times[1] = System.nanoTime();
                });
                leaveAt = times[0];
                removedAt = times[1];
                Duration afterWindow = afterWindow(measure, askTimeout);
                after = measured(loop, servers, () -> TimeUnit.NANOSECONDS.sleep(afterWindow.toNanos()));
                // the loop goes on (unmeasured) until every entity has answered from b, or the deadline
                Await.until(EVERY_FROM_B, "every entity answers from b", () -> firstAnswers.everyFromWatchedAt() != 0
                        || System.nanoTime() - removedAt > EVERY_FROM_B.toNanos() - 1_000_000_000L);
            } finally {
                loop.stop(Duration.ofSeconds(30));
            }
            long everyAt = firstAnswers.everyFromWatchedAt();
            Map<String, Long> fromLeave = loop.failuresBetween(leaveAt, System.nanoTime());
            return new Result(before, during, after, removedAt - leaveAt, everyAt == 0 ? 0 : everyAt - leaveAt,
                    firstAnswers.fromWatched(), fromLeave.values().stream().mapToLong(Long::longValue).sum(),
                    fromLeave, loop.failures().size(), loop.firstMessages());
        } finally {
            while (!opened.isEmpty()) {
                opened.pop().close();
            }
        }
    }

    /** One ask per entity, {@link #inFlight} at a time; every one must answer 1 from node a. */
    private void activateAll(PekkoAskLoad asks) throws InterruptedException {
        Semaphore permits = new Semaphore(inFlight);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        for (int i = 0; i < asks.entityCount() && failed.get() == null; i++) {
            permits.acquire();
            int entity = i;
            asks.increment(i, ACTIVATE_TIMEOUT).whenComplete((value, error) -> {
                if (error != null) {
                    failed.compareAndSet(null, error);
                } else if (value.count() != 1 || !value.node().equals("a")) {
                    failed.compareAndSet(null, new IllegalStateException("entity " + entity + " answered " + value
                            + " to its first increment, expected 1 from a"));
                }
                permits.release();
            });
        }
        permits.acquire(inFlight);
        if (failed.get() != null) {
            throw new IllegalStateException("activating the entities failed", failed.get());
        }
    }

    /** A body that may block. */
    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private static Phase measured(ClosedLoop<?> loop, Usage.Meter servers, Body body) throws Exception {
        loop.interval();
        Usage caller0 = ThisJvm.METER.read();
        Usage servers0 = servers.read();
        long ops0 = loop.completed();
        long start = System.nanoTime();
        body.run();
        long end = System.nanoTime();
        long ops = loop.completed() - ops0;
        Histogram latency = loop.interval();
        Usage caller = ThisJvm.METER.read().minus(caller0);
        Usage served = servers.read().minus(servers0);
        Map<String, Long> failures = loop.failuresBetween(start, end);
        double perOp = Math.max(1, ops);
        double cpu = caller.cpuNanos() == Usage.UNKNOWN ? Double.NaN
                : (caller.cpuNanos() + served.cpuNanos()) / 1e3 / perOp;
        Sample sample = new Sample(ops * 1e9 / (end - start), micros(latency, 50), micros(latency, 99),
                micros(latency, 99.9), failures.values().stream().mapToLong(Long::longValue).sum(),
                caller.allocatedBytes() == Usage.UNKNOWN ? Double.NaN : caller.allocatedBytes() / perOp,
                served.allocatedBytes() / perOp, cpu);
        return new Phase(sample, failures, end - start);
    }

    private static Usage sum(Usage x, Usage y) {
        return new Usage(x.cpuNanos() + y.cpuNanos(), x.allocatedBytes() + y.allocatedBytes());
    }

    private static double micros(Histogram histogram, double percentile) {
        return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1e3;
    }

    private static <T extends AutoCloseable> T push(Deque<AutoCloseable> opened, T resource) {
        opened.push(resource);
        return resource;
    }
}
