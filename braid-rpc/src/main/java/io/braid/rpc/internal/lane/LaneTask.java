package io.braid.rpc.internal.lane;

import io.braid.api.BraidException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A piece of work in a token's lane that is no call: a player's timer, or its deactivation. It
 * runs on {@code executor} when its turn comes, one at a time with the token's calls, and its turn
 * ends when it returns or throws. {@link #done()} completes when it has run (exceptionally with what
 * it threw), or fails with the {@link BraidException} that refused it (the lanes closed while it
 * waited). Thread-safe.
 */
public final class LaneTask implements LaneWork {
    private final Runnable task;
    private final Executor executor;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private volatile Lane lane;
    /** Readings of the lane's clock (0 when nothing hears the lanes): entered, began to run. */
    private long enteredNanos;
    private long startedNanos;

    public LaneTask(Runnable task, Executor executor) {
        this.task = task;
        this.executor = executor;
    }

    /** Completes when the task has run; fails with its exception, or with why it was refused. */
    public CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public void enteredLane(Lane lane) {
        this.enteredNanos = lane.now(); // written before the offer that publishes this work
        this.lane = lane;
    }

    @Override
    public void takeTurn() {
        try {
            executor.execute(this::run);
        } catch (RuntimeException rejected) { // the executor shut down: the turn ends unused
            lane.endTurn(this);
            done.completeExceptionally(rejected);
        }
    }

    private void run() {
        Lane held = lane;
        startedNanos = held.now();
        Throwable failure = null;
        try {
            task.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        try {
            held.turnEnded(enteredNanos, startedNanos, false); // told before anyone hears it ran
            if (failure == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(failure);
            }
        } finally {
            held.endTurn(this);
        }
    }

    @Override
    public void refuse(BraidException why) {
        done.completeExceptionally(why);
    }
}
