package io.braid.api;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Which node holds each player token, per service. The link is what makes every call for one
 * player reach one node: two owners of one player's state is the worst failure a game server can
 * have, so every change here is atomic and compare-based.
 *
 * <p>Reads may be served by a near cache without I/O; changes made anywhere in the cluster reach
 * every near cache within a second (a broadcast, repaired by a bounded TTL). The async methods
 * never block; the blocking ones wait for the async ones and must not be called on an event loop.
 * Failures are {@link BraidException}s: {@link Code#UNAVAILABLE} when the store cannot be reached.
 * Thread-safe.
 */
public interface LinkCache extends AutoCloseable {
    /** The id of the node of {@code service} that owns {@code token}, if any. */
    CompletableFuture<Optional<String>> targetAsync(String token, String service);

    /**
     * Links {@code token} to {@code candidate} unless the token already has an owner in the
     * candidate's service; completes with the owner's id either way (first writer wins).
     */
    CompletableFuture<String> linkAsync(String token, Node candidate);

    /**
     * Links {@code token} to {@code node} even if another node owns it in that service (a player
     * reconnecting through another gateway; a gateway binding a token to itself at login).
     */
    CompletableFuture<Void> relinkAsync(String token, Node node);

    /** Removes every link of {@code token} (the player left). Completes with how many were removed. */
    CompletableFuture<Integer> unlinkAsync(String token);

    /**
     * Removes the link of {@code token} in {@code owner}'s service only if it still points at
     * {@code owner} (compare-and-delete), so an old owner's late unlink never removes a newer link.
     * Completes with whether a link was removed.
     */
    CompletableFuture<Boolean> unlinkAsync(String token, Node owner);

    /**
     * Removes every link that points at {@code node} (compare-and-delete: links that moved
     * elsewhere stay). Done once, by the leader of the node's service, when the node is gone.
     * Completes with how many links were removed.
     */
    CompletableFuture<Long> downAsync(Node node);

    /** How many tokens are linked to this node. */
    CompletableFuture<Long> linkCountAsync(String nodeId);

    default Optional<String> target(String token, String service) {
        return join(targetAsync(token, service));
    }

    default String link(String token, Node candidate) {
        return join(linkAsync(token, candidate));
    }

    default void relink(String token, Node node) {
        join(relinkAsync(token, node));
    }

    default int unlink(String token) {
        return join(unlinkAsync(token));
    }

    default boolean unlink(String token, Node owner) {
        return join(unlinkAsync(token, owner));
    }

    default long down(Node node) {
        return join(downAsync(node));
    }

    default long linkCount(String nodeId) {
        return join(linkCountAsync(nodeId));
    }

    /** Drops this process's near-cache entries that point at {@code nodeId} (the node is gone). No I/O. */
    void forgetNode(String nodeId);

    @Override
    void close();

    private static <T> T join(CompletableFuture<T> future) {
        try {
            return future.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw BraidException.from(e);
        }
    }
}
