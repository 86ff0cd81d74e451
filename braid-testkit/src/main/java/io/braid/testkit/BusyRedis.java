package io.braid.testkit;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps a Redis busy but answering: another client runs a script that spins for a given time,
 * again and again, so Redis serves everyone else only between two scripts (a slow Redis, as under
 * a heavy neighbour, without pausing it). For tests of bursts: what a client sends at once waits
 * in Redis's socket, while what it queues on its own side waits where no command timer runs.
 * {@link #close()} stops the scripts and waits for the last one.
 */
public final class BusyRedis implements AutoCloseable {
    private static final String SPIN = """
            local t = redis.call('TIME')
            local start = t[1] * 1000000 + t[2]
            repeat
              local n = redis.call('TIME')
            until n[1] * 1000000 + n[2] - start >= tonumber(ARGV[1])
            return 1
            """;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger scripts = new AtomicInteger();
    private final Thread thread;

    private BusyRedis(RedisServer server, Duration scriptTime) {
        String micros = Long.toString(scriptTime.toNanos() / 1_000);
        thread = Thread.ofPlatform().name("redis-busy").daemon().start(() -> {
            try (RedisProbe other = server.probe()) {
                while (!stop.get()) {
                    other.command("EVAL", SPIN, "0", micros);
                    scripts.incrementAndGet();
                }
            }
        });
    }

    /**
     * Starts running scripts of {@code scriptTime} each on {@code server} and returns once two have
     * run (Redis is busy from then on).
     *
     * @throws IllegalArgumentException unless {@code scriptTime} is 1 ms .. 1 s
     */
    public static BusyRedis start(RedisServer server, Duration scriptTime) {
        if (scriptTime.compareTo(Duration.ofMillis(1)) < 0 || scriptTime.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new IllegalArgumentException("scriptTime must be 1 ms .. 1 s, was " + scriptTime);
        }
        BusyRedis busy = new BusyRedis(server, scriptTime);
        try {
            Await.until(Duration.ofSeconds(10), "Redis to be busy", () -> busy.scripts() >= 2);
        } catch (RuntimeException | Error e) {
            busy.close();
            throw e;
        }
        return busy;
    }

    /** Scripts that have run so far. */
    public int scripts() {
        return scripts.get();
    }

    @Override
    public void close() {
        stop.set(true);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
