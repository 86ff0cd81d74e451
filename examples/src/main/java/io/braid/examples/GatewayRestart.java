package io.braid.examples;

import io.braid.examples.gateway.GatewayService;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * {@code --restart-gateway}: once, at a set time of the run (or later, once every player is
 * online: the crash should hit a full house), the oldest gateway crashes
 * ({@link GatewayService#crash()}: its players' connections drop, nothing of it is cleaned up) and
 * a fresh gateway starts on the same port, so the players' clients find a gateway at every
 * address they know: they resume on a surviving gateway or on the new one. Runs on a thread of its
 * own; {@link #stop()} before the time cancels it.
 */
final class GatewayRestart {
    /** How long the fresh gateway may wait for the crashed one's port. */
    static final Duration PORT_FREE_WITHIN = Duration.ofSeconds(5);

    /**
     * What the restart did.
     *
     * @param crashed      the gateway that crashed
     * @param replacement  the fresh one
     * @param playersThere players with a session on the crashed gateway just before
     * @param atSecond     when it crashed, seconds into the run
     * @param took         from the crash until the fresh gateway listened
     * @param samePort     whether the fresh gateway got the crashed one's port (else a free one)
     */
    record Step(String crashed, String replacement, int playersThere, long atSecond, Duration took, boolean samePort) {
        String describe() {
            return String.format("%s crashed at %d s with %d players on it; %s listened %s %.1f s later", crashed,
                    atSecond, playersThere, replacement, samePort ? "on its port" : "on another port (!)",
                    took.toMillis() / 1000.0);
        }
    }

    private final Supplier<GatewayService> victim;
    private final BooleanSupplier everyPlayerOnline;
    private final IntFunction<GatewayService> startOnPort;
    private final Duration after;
    private final PrintStream out;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean stopped;
    private volatile Step step;
    private volatile String problem;
    private Thread thread;

    /**
     * @param victim      the gateway to crash (asked at the time)
     * @param everyPlayerOnline whether the crash may come (it waits for it after {@code after})
     * @param startOnPort starts a fresh gateway on this port (0: a free one); throws IllegalStateException
     *                    when the port cannot be bound
     */
    GatewayRestart(Supplier<GatewayService> victim, BooleanSupplier everyPlayerOnline,
                   IntFunction<GatewayService> startOnPort, Duration after, PrintStream out) {
        this.victim = victim;
        this.everyPlayerOnline = everyPlayerOnline;
        this.startOnPort = startOnPort;
        this.after = after;
        this.out = out;
    }

    void start(long runStartedNanos) {
        thread = Thread.ofPlatform().daemon().name("gateway-restart").start(() -> {
            try {
                long at = runStartedNanos + after.toNanos();
                while (!stopped && (System.nanoTime() - at < 0 || !everyPlayerOnline.getAsBoolean())) {
                    java.util.concurrent.locks.LockSupport.parkNanos(Math.min(at - System.nanoTime(),
                            TimeUnit.MILLISECONDS.toNanos(100))); // waiting for the time, checking for stop()
                }
                if (!stopped) {
                    restart(runStartedNanos);
                }
            } catch (RuntimeException e) {
                problem = "the gateway restart failed: " + e;
            } finally {
                done.countDown();
            }
        });
    }

    private void restart(long runStartedNanos) {
        GatewayService old = victim.get();
        int port = old.port();
        int players = old.playersOnline();
        long crashedAt = System.nanoTime();
        old.crash();
        GatewayService fresh = null;
        long deadline = crashedAt + PORT_FREE_WITHIN.toNanos();
        while (fresh == null) {
            try {
                fresh = startOnPort.apply(port);
            } catch (IllegalStateException taken) {
                if (System.nanoTime() - deadline > 0) {
                    fresh = startOnPort.apply(0);
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // the port frees
                }
            }
        }
        step = new Step(old.nodeId(), fresh.nodeId(), players,
                TimeUnit.NANOSECONDS.toSeconds(crashedAt - runStartedNanos), Duration.ofNanos(System.nanoTime() - crashedAt),
                fresh.port() == port);
        out.println("gateway restart: " + step.describe());
        out.flush();
    }

    void stop() {
        stopped = true;
    }

    boolean await(Duration timeout) throws InterruptedException {
        return thread == null || done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    Optional<Step> step() {
        return Optional.ofNullable(step);
    }

    Optional<String> problem() {
        return Optional.ofNullable(problem);
    }
}
