package io.braid.api;

import java.util.Optional;

/**
 * Which node holds each player token, per service. The link is what makes every call for one
 * player reach one node: two owners of one player's state is the worst failure a game server can
 * have, so every change here is atomic and compare-based. Thread-safe.
 */
public interface LinkCache extends AutoCloseable {
    /** The id of the node of {@code service} that owns {@code token}, if any. */
    Optional<String> target(String token, String service);

    /**
     * Links {@code token} to {@code candidate} unless the token already has an owner in the
     * candidate's service; returns the owner either way (first writer wins).
     */
    Node link(String token, Node candidate);

    /** Links {@code token} to {@code node} even if another node owns it (reconnect, gateway binding). */
    void relink(String token, Node node);

    /** Removes every link of {@code token} (the player left). */
    void unlink(String token);

    /**
     * Removes the link of {@code token} in {@code owner}'s service only if it still points at
     * {@code owner} (compare-and-delete), so an old owner's late unlink never removes a newer link.
     *
     * @return whether a link was removed
     */
    boolean unlink(String token, Node owner);

    /** Removes every link that points at {@code node} (compare-and-delete: links moved elsewhere stay). */
    void down(Node node);

    /** How many tokens are linked to this node. */
    long linkCount(String nodeId);

    @Override
    void close();
}
