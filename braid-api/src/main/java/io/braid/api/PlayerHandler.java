package io.braid.api;

/**
 * A handler of a player method: it runs in the lane of the call's token, one at a time with the
 * player's other calls and timers, on a virtual thread (it may block; it holds only its player's
 * lane), and gets the player's state. Returning answers the call; throwing a {@link BraidException}
 * answers with its code; any other exception answers {@link Code#INTERNAL} with its message. Either
 * way the player stays active.
 *
 * @param <S> the state of one player
 * @param <Q> request type
 * @param <R> response type
 */
@FunctionalInterface
public interface PlayerHandler<S, Q, R> {
    R handle(Player<S> player, CallContext context, Q request) throws Exception;
}
