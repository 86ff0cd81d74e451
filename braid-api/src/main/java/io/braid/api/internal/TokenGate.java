package io.braid.api.internal;

import io.braid.api.Link;
import java.util.Optional;

/**
 * Whether the server may act for a player now: asked before every call that carries a token,
 * before every message of a token stream, and periodically for the open token streams (see
 * {@code RpcServer.Builder#fenceCheckInterval}). A call refused here fails UNAVAILABLE without
 * reaching its handler; an open stream refused here ends UNAVAILABLE. Calls and streams without a
 * token are never asked about.
 *
 * <p>Two levels: the whole node ({@link #isOpen()}: it may act for no player at all, e.g. while it
 * cannot confirm its registration) and one token ({@link #admits}: e.g. the player was given to
 * another node). Answers must be quick and must not block; a gate that throws counts as closed.
 */
public interface TokenGate {
    /** Whether this node may act for any player now. */
    boolean isOpen();

    /** Whether this node may act for {@code token} now; false whenever {@link #isOpen()} is. */
    default boolean admits(String token) {
        return isOpen();
    }

    /**
     * A count that grows whenever {@link #admits} may have turned false for some token while
     * {@link #isOpen()} stayed true; when it moved, the server's periodic check asks about each of
     * its open token streams (otherwise only {@link #isOpen()}, once).
     */
    default long revocations() {
        return 0;
    }

    /**
     * Where {@code token} went, when this gate refuses it while {@link #isOpen() open} and knows
     * the new owner; empty when it does not know (the default). The server sends it with the
     * refusal ({@link NotServedHere#METADATA_KEY}) so that the caller can go there directly; an
     * empty answer makes the caller look the owner up again. Quick and non-blocking, like the rest.
     */
    default Optional<Link> movedTo(String token) {
        return Optional.empty();
    }
}
