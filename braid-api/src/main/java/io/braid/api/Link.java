package io.braid.api;

/**
 * A token's link in one service: the node that owns the token there, and the epoch of that
 * ownership. Immutable.
 *
 * <p>The epoch grows with every change of owner of the token in the service (a new link, a relink
 * to another node, a move) and never goes backwards for a token, also across an unlink and a later
 * link, and (within the limits its {@link LinkCache} documents) across a store that lost its data.
 * So of two links of one token, the one with the higher epoch is the newer; an owner that acts
 * under an epoch can be told apart from a newer owner (fencing). Epochs of different tokens are
 * not comparable. Epoch 0 is a link written without one (by hand, or by a braid before epochs);
 * links braid makes have epochs above 0.
 *
 * @param nodeId the id of the owning node
 * @param epoch  the epoch of this ownership, 0 or more
 */
public record Link(String nodeId, long epoch) {
    public Link {
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("nodeId must not be blank");
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be 0 or more, was " + epoch);
        }
    }
}
