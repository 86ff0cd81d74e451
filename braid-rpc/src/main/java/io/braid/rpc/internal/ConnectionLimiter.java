package io.braid.rpc.internal;

import io.braid.api.internal.Checks;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the connections one server holds open at once. A connection past the cap is closed the
 * moment it is accepted, before any TLS handshake or read: with {@code SO_LINGER 0}, so the
 * kernel answers with a reset and keeps no TIME_WAIT socket for it. The client sees the
 * connection fail before its request was written, which braid's client treats as UNAVAILABLE and
 * retries elsewhere for a stateless call. Connections already open are untouched.
 *
 * <p>Every refusal is counted ({@link #rejected()}); a WARN line names the cap and the running
 * count at most once per {@link #WARN_INTERVAL_NANOS}, so a flood cannot flood the log too.
 * Thread-safe: {@link #admit} runs on any event loop.
 */
public final class ConnectionLimiter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
    static final long WARN_INTERVAL_NANOS = 10_000_000_000L;

    private final int maxConnections;
    private final LongSupplier nanoTime;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder rejected = new LongAdder();
    private final AtomicLong lastWarning;

    /** @param ticker the clock that paces the WARN lines */
    public ConnectionLimiter(int maxConnections, io.braid.api.Ticker ticker) {
        this(maxConnections, (LongSupplier) ticker::read);
    }

    ConnectionLimiter(int maxConnections, LongSupplier nanoTime) {
        this.maxConnections = (int) Checks.atLeast(maxConnections, 1, "maxConnections");
        this.nanoTime = nanoTime;
        this.lastWarning = new AtomicLong(nanoTime.getAsLong() - WARN_INTERVAL_NANOS);
    }

    /**
     * Takes a slot for a newly accepted connection, given back when it closes; or, at the cap,
     * closes it at once and returns false (the caller then sets nothing up on it).
     */
    public boolean admit(Channel channel) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            rejected.increment();
            warn(channel);
            try {
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
            } catch (RuntimeException ignored) {
                // a transport without SO_LINGER: an ordinary close does
            }
            channel.close();
            return false;
        }
        channel.closeFuture().addListener(closed -> open.decrementAndGet());
        return true;
    }

    /** Connections holding a slot now. */
    public int open() {
        return open.get();
    }

    /** Connections refused since the server started. */
    public long rejected() {
        return rejected.sum();
    }

    public int maxConnections() {
        return maxConnections;
    }

    private void warn(Channel channel) {
        long now = nanoTime.getAsLong();
        long last = lastWarning.get();
        if (now - last >= WARN_INTERVAL_NANOS && lastWarning.compareAndSet(last, now)) {
            log.warn("refusing connection from {}: the server holds its maximum of {} connections "
                    + "(maxConnections); {} refused so far", channel.remoteAddress(), maxConnections, rejected());
        }
    }
}
