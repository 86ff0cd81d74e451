package io.braid.redis.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Sends Redis commands of one owner (a store, a cache) in the order they are given, with at most
 * {@code maxInFlight} sent and unanswered at a time; the rest of a burst (a login storm, the
 * refresh of thousands of records, first pushes to thousands of players) waits here, in order,
 * where no command timer runs. Lettuce starts a command's timeout when the command is sent, so a
 * burst sent at once fails the commands at its tail UNAVAILABLE (timed out) while Redis, answering
 * all along, works through the head; queued here, each command's timer runs only for its own
 * round trip behind at most {@code maxInFlight - 1} others.
 *
 * <p>Failures become a {@link BraidException} saying what failed ({@link RedisErrors#toBraid}):
 * {@link Code#UNAVAILABLE} when Redis is unreachable. When a sent command fails UNAVAILABLE (timed
 * out, connection lost), every command still waiting fails UNAVAILABLE at once rather than wait its
 * turn to time out; commands given later are sent again as usual. After {@link #close()} every
 * waiting command, and every command given later, fails UNAVAILABLE without being sent.
 *
 * <p>The queue owns no connection: commands go where their supplier sends them. Order is kept on
 * the wire only when they all go on one connection (on a Cluster: per master). Thread-safe, and no
 * lock: one thread at a time sends (the others leave their command here and go); a supplier runs on
 * the thread that gives a command or on the thread that completes an earlier one (a Lettuce event
 * loop), so it must only send, never block.
 */
public final class CommandQueue implements AutoCloseable {
    /**
     * Default of the bound: enough to keep a connection's pipeline full (Redis answers a few
     * hundred small commands in well under a millisecond), few enough that the last of them is
     * answered long before a command timeout.
     */
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;

    private final String owner;
    private final int maxInFlight;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Commands not yet sent, in the order they were given. */
    private final Queue<Waiting<?>> waiting = new ConcurrentLinkedQueue<>();
    /** Commands sent and not yet answered. */
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Whether a thread is sending from {@link #waiting} now: only one does, so commands leave in order. */
    private final AtomicBoolean sending = new AtomicBoolean();

    /**
     * A queue for {@code owner} (named in the failure after close, e.g. "the link cache") that keeps
     * at most {@code maxInFlight} (1..65536) commands in flight.
     */
    public CommandQueue(String owner, int maxInFlight) {
        if (owner == null) {
            throw new IllegalArgumentException("owner must not be null");
        }
        if (maxInFlight < 1 || maxInFlight > 65_536) {
            throw new IllegalArgumentException("maxInFlight must be in 1..65536, was " + maxInFlight);
        }
        this.owner = owner;
        this.maxInFlight = maxInFlight;
    }

    /** A queue for {@code owner} with {@link #DEFAULT_MAX_IN_FLIGHT}. */
    public CommandQueue(String owner) {
        this(owner, DEFAULT_MAX_IN_FLIGHT);
    }

    /**
     * Runs {@code command} (which sends one Redis command and answers its reply) once fewer than
     * the bound are in flight, after every command given before it; its future completes with the
     * reply, or fails with a {@link BraidException} whose message starts with {@code failed}.
     */
    public <T> CompletableFuture<T> run(String failed, Supplier<? extends CompletionStage<T>> command) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(closedFailure(failed));
        }
        Waiting<T> next = new Waiting<>(failed, command, new CompletableFuture<>());
        waiting.add(next);
        if (closed.get()) { // closed while we added: what close() did not see, we fail here
            failWaiting(null);
        }
        sendWaiting();
        return next.result();
    }

    /** Commands sent and not yet answered, now (at most the bound). */
    public int inFlight() {
        return inFlight.get();
    }

    /** Commands given and not yet sent, now. */
    public int waiting() {
        return waiting.size();
    }

    /**
     * Sends waiting commands, oldest first, while fewer than the bound are in flight. One thread at
     * a time sends, so commands leave in the order they were given.
     */
    private void sendWaiting() {
        while (sending.compareAndSet(false, true)) {
            try {
                Waiting<?> next;
                while (inFlight.get() < maxInFlight && (next = waiting.poll()) != null) {
                    inFlight.incrementAndGet();
                    send(next);
                }
            } finally {
                sending.set(false);
            }
            // A command given, or an answer that freed a place, while this thread was sending: look again.
            if (waiting.isEmpty() || inFlight.get() >= maxInFlight) {
                return;
            }
        }
    }

    private <T> void send(Waiting<T> command) {
        CompletionStage<T> sent;
        try {
            sent = command.command().get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((reply, failure) -> {
            inFlight.decrementAndGet();
            if (failure == null) {
                command.result().complete(reply);
            } else {
                BraidException error = RedisErrors.toBraid(command.failed(), failure);
                if (error.code() == Code.UNAVAILABLE) {
                    failWaiting("Redis did not answer a command sent before it (" + error.getMessage() + ")");
                }
                command.result().completeExceptionally(error);
            }
            sendWaiting();
        });
    }

    /** Fails every command not yet sent UNAVAILABLE, saying {@code why} (null: closed). */
    private void failWaiting(String why) {
        Waiting<?> next;
        while ((next = waiting.poll()) != null) {
            next.result().completeExceptionally(why == null ? closedFailure(next.failed())
                    : new BraidException(Code.UNAVAILABLE, next.failed() + ": " + why));
        }
    }

    private BraidException closedFailure(String failed) {
        return new BraidException(Code.UNAVAILABLE, failed + ": " + owner + " is closed");
    }

    /** A command not yet sent: what to say if it fails, what sends it, and its caller's future. */
    private record Waiting<T>(String failed, Supplier<? extends CompletionStage<T>> command,
                              CompletableFuture<T> result) {
    }

    /**
     * Fails every waiting command UNAVAILABLE and refuses those given later (idempotent); commands
     * already sent are answered as usual. Closes no connection.
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            failWaiting(null);
        }
    }

    @Override
    public String toString() {
        return "CommandQueue{" + owner + ", " + inFlight.get() + "/" + maxInFlight + " in flight, " + waiting.size()
                + " waiting}";
    }
}
