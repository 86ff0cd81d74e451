package io.braid.runtime;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.PlayerStates.Deactivation;
import io.braid.api.PlayerStore;
import io.braid.api.internal.PlayerListener;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's players and their {@link PlayerStore}: loading a snapshot for an activation, saving
 * one under the activation's epoch on deactivation, every interval, or after every call
 * (write-through), as the {@link Players} definition says. A save the store refuses (a newer owner
 * exists) ends the activation, MOVED. All of it runs in the player's lane and blocks there for
 * one store round trip. Thread-safe.
 *
 * @param <S> the state of one player
 */
final class PlayerSaving<S> {
    private static final Logger log = LoggerFactory.getLogger(PlayerSaving.class);

    private final PlayerHome<S> home;
    private final Players<S> players;
    private final PlayerStore store;
    private final String nodeId;
    private final String service;
    private final PlayerListener listener;

    PlayerSaving(PlayerHome<S> home, Players<S> players, PlayerStore store, String nodeId, String service,
                 PlayerListener listener) {
        this.home = home;
        this.players = players;
        this.store = store;
        this.nodeId = nodeId;
        this.service = service;
        this.listener = listener;
    }

    /**
     * The saved snapshot of {@code token}, if any. Blocks (in the lane).
     *
     * @throws BraidException UNAVAILABLE when the store cannot be read (the call that activates does not run)
     */
    Optional<PlayerStore.Saved> load(String token) {
        try {
            return store.loadAsync(service, token).join();
        } catch (CompletionException e) {
            throw new BraidException(Code.UNAVAILABLE, "player " + token + " cannot be loaded from its store on node "
                    + nodeId + " (" + BraidException.from(e).getMessage() + "); the call did not run, try again");
        }
    }

    /**
     * Saves {@code player}'s snapshot under its epoch; true when the store took it (or there is no
     * snapshot), false when it refused it (a newer owner exists). Blocks (in the lane).
     *
     * @throws BraidException when the store cannot be reached
     */
    boolean save(PlayerHome<S>.Active player) {
        byte[] snapshot = players.states.snapshot(player.state);
        if (snapshot == null) {
            return true;
        }
        try {
            boolean taken = store.saveAsync(service, player.token, player.epoch, snapshot).join();
            listener.saved(taken ? PlayerListener.SaveOutcome.SAVED : PlayerListener.SaveOutcome.REFUSED);
            return taken;
        } catch (CompletionException e) {
            listener.saved(PlayerListener.SaveOutcome.FAILED);
            throw BraidException.from(e);
        }
    }

    /** Write-through, in the lane after the handler: its answer leaves only once its effect is saved. */
    void afterCall(PlayerHome<S>.Active player) {
        boolean taken;
        try {
            taken = save(player);
        } catch (RuntimeException e) {
            throw new BraidException(Code.UNAVAILABLE, "player " + player.token + ": the call ran on node " + nodeId
                    + " but its state could not be saved (" + e.getMessage() + "); its effect may be lost");
        }
        if (!taken) {
            home.deactivate(player, Deactivation.MOVED);
            throw new BraidException(Code.UNAVAILABLE, "player " + player.token + " has a newer owner than node "
                    + nodeId + " (the store refused its state under epoch " + player.epoch + "); try again");
        }
    }

    /** In the lane, every saveInterval: saves the player and arms the next save; a refused save ends the activation. */
    void periodically(PlayerHome<S>.Active player) {
        try {
            if (!save(player)) {
                log.info("player {} on node {}: the store refused its state under epoch {} (a newer owner exists); "
                        + "its activation ends", player.token, nodeId, player.epoch);
                home.deactivate(player, Deactivation.MOVED);
                return;
            }
        } catch (RuntimeException e) {
            log.warn("player {} on node {}: saving its state failed ({}); trying again in {}", player.token, nodeId,
                    e.getMessage(), players.saveInterval);
        }
        if (!player.ended()) {
            player.arm(players.saveInterval, p -> periodically(player), true);
        }
    }

    /** When an activation ends (not MOVED): saves it, logging a refusal or a failure. */
    void onDeactivation(PlayerHome<S>.Active player, Deactivation why) {
        try {
            if (!save(player)) {
                log.info("player {} on node {} ({}): the store refused its state under epoch {} (a newer owner exists)",
                        player.token, nodeId, why, player.epoch);
            }
        } catch (RuntimeException | Error e) {
            log.warn("player {} on node {} ({}): its state could not be saved", player.token, nodeId, why, e);
        }
    }
}
