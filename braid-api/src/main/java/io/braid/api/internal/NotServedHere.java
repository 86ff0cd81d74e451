package io.braid.api.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import java.util.Optional;

/**
 * A refusal that guarantees the call did not run on this node: its token is served elsewhere
 * (the player was moved, e.g. by a live handoff). Its code is {@link Code#UNAVAILABLE}. A handler
 * throws it (or fails its future with it) only before it did any work for the call; the server
 * answers the code and the message and, in the response metadata, {@link #METADATA_KEY} with the
 * new owner when known ({@link #encode}). A client that sees that entry on the answer to a token
 * call may send the call on to the new owner, since nothing ran here; a caller never sees this
 * type itself, only {@code UNAVAILABLE} with its message once the client gave up re-routing.
 *
 * <p>Not an API: a contract between the runtime (which knows where a player went) and braid-rpc.
 */
public class NotServedHere extends BraidException {
    private static final long serialVersionUID = 1L;

    /** The response metadata entry that marks a refusal as "not served here": {@link #encode}d owner. */
    public static final String METADATA_KEY = "braid-moved";

    private final transient Link owner;

    /** @param owner the token's owner now, as far as this node knows; null when unknown */
    public NotServedHere(String message, Link owner) {
        super(Code.UNAVAILABLE, message);
        this.owner = owner;
    }

    /** The token's owner now, as far as the refusing node knew; empty when unknown. */
    public Optional<Link> owner() {
        return Optional.ofNullable(owner);
    }

    /** The value of {@link #METADATA_KEY} for {@code ownerOrNull}: "" when unknown, else "epoch:nodeId". */
    public static String encode(Link ownerOrNull) {
        return ownerOrNull == null ? "" : ownerOrNull.epoch() + ":" + ownerOrNull.nodeId();
    }

    /**
     * The owner a {@link #METADATA_KEY} value names; empty for "", null or anything that is not
     * {@link #encode}'s form (never throws: the value comes off the wire).
     */
    public static Optional<Link> decode(String value) {
        if (value == null) {
            return Optional.empty();
        }
        int colon = value.indexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            return Optional.empty();
        }
        long epoch;
        try {
            epoch = Long.parseLong(value, 0, colon, 10);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        String nodeId = value.substring(colon + 1);
        if (epoch < 0 || nodeId.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(new Link(nodeId, epoch));
    }

    @Override
    public String toString() {
        return "NotServedHere{" + getMessage() + (owner == null ? "" : ", owner " + owner) + "}";
    }
}
