package io.braid.api;

import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where the owner of a player keeps the player's state between activations, so that another node
 * can activate the player from it after the owner died (kill -9, a lost machine). One snapshot per
 * (service, token), saved with the {@link Link#epoch() epoch} of the link its owner activated the
 * player under.
 *
 * <p><b>Fencing.</b> A save carries the saver's epoch and is refused (completes {@code false},
 * nothing written) when a newer owner exists: the token's link in that service has a higher epoch,
 * or the snapshot already saved has a higher epoch. So an old owner that was frozen (a GC pause,
 * SIGSTOP, a network partition) and resumes after its player moved cannot overwrite the new
 * owner's state, before or after the new owner saved. A save under the epoch already saved is
 * accepted (an owner saves the same player many times). A removed link does not refuse a save: an
 * owner saves its player when the player leaves, after its link is gone. The check and the write
 * are one atomic step.
 *
 * <p><b>Your own database.</b> braid keeps snapshots in Redis (or, without Redis, in the memory of
 * one JVM); a game that keeps player state in its own database plugs it in through this same
 * interface. {@link #saveAsync} must then be a conditional write on the stored epoch, atomic in
 * your database: update the row only where the stored epoch is at most the saver's (in SQL,
 * {@code INSERT ... ON CONFLICT (service, token) DO UPDATE SET epoch = :epoch, state = :state
 * WHERE player_state.epoch <= :epoch}, and report whether a row was written); {@link #deleteAsync}
 * likewise deletes only where the stored epoch is at most the deleter's. That alone refuses a
 * stale owner once the new owner has saved. To refuse it before that, also check the link's epoch
 * where you can read it: ask {@link LinkCache#linkOfAsync} first and refuse when its epoch is above
 * the saver's. That check is weaker than braid's own, which reads the link in the same atomic step
 * as the write: the link can change between your read and your write, and {@code linkOfAsync} may
 * answer from a near cache that lags a change by up to its staleness bound (a second by default).
 * In that window a stale owner's save lands under its older epoch. It cannot replace a snapshot the
 * new owner saved (the conditional write refuses it), but it can replace the one the new owner
 * activated from, and if the new owner dies before its first save, the next owner activates from
 * the stale owner's late snapshot. Having the new owner save as soon as it activates narrows that
 * window to the time before that first save.
 *
 * <p>The futures never throw from the call: a bad argument (a blank service or token, a negative
 * epoch, a null snapshot) fails the returned future with {@link Code#INVALID_ARGUMENT}; a store
 * that cannot be reached fails it with {@link Code#UNAVAILABLE}. Thread-safe.
 */
public interface PlayerStore {
    /**
     * The last saved snapshot of (service, token), with the epoch it was saved under; empty when
     * none is saved (never saved, or deleted).
     */
    CompletableFuture<Optional<Saved>> loadAsync(String service, String token);

    /**
     * Saves under epoch: completes true when written, false when refused because a newer owner
     * exists: the token's link in that service has an epoch above {@code epoch}, or the saved
     * snapshot has an epoch above it. (A removed link does not refuse: an owner saves its player on
     * LEFT.) The snapshot replaces the saved one whole; zero bytes is a snapshot too. The array is
     * not kept: changing it after the call changes nothing saved.
     * Failures: {@link BraidException} {@link Code#UNAVAILABLE} when the store cannot be reached
     * (whether the write happened is then unknown; a later save under the same epoch is accepted).
     */
    CompletableFuture<Boolean> saveAsync(String service, String token, long epoch, byte[] snapshot);

    /**
     * Deletes the snapshot if saved under an epoch {@code <= epoch}; completes whether one was
     * deleted (false when there was none, or it was saved under a higher epoch: a newer owner's).
     */
    CompletableFuture<Boolean> deleteAsync(String service, String token, long epoch);

    /**
     * A saved snapshot and the epoch it was saved under. Equal when both the epoch and the bytes are.
     *
     * @param epoch    the epoch of the link its owner saved it under, 0 or more
     * @param snapshot the bytes saved, possibly none; never null
     */
    record Saved(long epoch, byte[] snapshot) {
        public Saved {
            if (epoch < 0) {
                throw new IllegalArgumentException("epoch must be 0 or more, was " + epoch);
            }
            Objects.requireNonNull(snapshot, "snapshot");
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Saved saved && saved.epoch == epoch && Arrays.equals(saved.snapshot, snapshot);
        }

        @Override
        public int hashCode() {
            return 31 * Long.hashCode(epoch) + Arrays.hashCode(snapshot);
        }

        @Override
        public String toString() {
            return "Saved{epoch=" + epoch + ", " + snapshot.length + " bytes}";
        }
    }
}
