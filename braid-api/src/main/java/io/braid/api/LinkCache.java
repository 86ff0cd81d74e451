package io.braid.api;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Which node holds each player token, per service. The link is what makes every call for one
 * player reach one node: two owners of one player's state is the worst failure a game server can
 * have, so every change here is atomic and compare-based.
 *
 * <p>Every link carries an epoch ({@link Link}) that grows with every change of owner: a new link,
 * a relink to another node, a move. It never goes backwards for a token, also across an unlink
 * and a later link; an implementation's documentation says what it guarantees when its store loses
 * data. An owner acts for a token under the epoch it was given; {@link #moveAsync} hands a token
 * over only from the owner and epoch the mover saw (compare-and-set).
 *
 * <p>Reads may be served by a near cache without I/O; changes made anywhere in the cluster reach
 * every near cache within a second (a broadcast, repaired by a bounded TTL). A near cache never
 * replaces a link it holds by an older one (a lower epoch). The async methods never block and
 * never throw: a bad argument fails the returned future with {@link Code#INVALID_ARGUMENT}; the
 * blocking ones wait for the async ones and must not be called on an event loop. Failures are
 * {@link BraidException}s: {@link Code#UNAVAILABLE} when the store cannot be reached.
 * Thread-safe.
 */
public interface LinkCache extends AutoCloseable {
    /** The link of {@code token} in {@code service} (owner and epoch), if any. */
    CompletableFuture<Optional<Link>> linkOfAsync(String token, String service);

    /**
     * The link of {@code token} in {@code service} when this cache holds it in memory and may
     * answer from there now, with no I/O and no allocation; null otherwise, which says nothing about
     * the store. A router asks this first and, on null, goes to the store once:
     * {@link #lookUpOrLinkAsync} for the node it would pick. The default: null (no memory).
     */
    default Link cachedLinkOf(String token, String service) {
        return null;
    }

    /**
     * A router's lookup of a token not held in memory, in one step: the token's owner in
     * {@code candidate}'s service, linking it to {@code candidate} first when it has none (as
     * {@link #claimAsync}: first writer wins). An implementation's listener hears it as a lookup (a
     * miss when the candidate was linked now). The default: {@link #claimAsync}.
     */
    default CompletableFuture<Link> lookUpOrLinkAsync(String token, Node candidate) {
        return claimAsync(token, candidate);
    }

    /**
     * Links {@code token} to {@code candidate} unless the token already has an owner in the
     * candidate's service; completes with the link in place either way (first writer wins): the
     * candidate's with a new epoch, or the earlier owner's with its epoch.
     */
    CompletableFuture<Link> claimAsync(String token, Node candidate);

    /**
     * Links {@code token} to {@code node} even if another node owns it in that service (a player
     * reconnecting through another gateway; a gateway binding a token to itself at login).
     * Completes with the link now in place: a new epoch, unless the token was already linked to
     * {@code node} (then the link and its epoch are unchanged).
     */
    CompletableFuture<Link> relinkAsync(String token, Node node);

    /**
     * Moves the link of {@code token} in {@code to}'s service to {@code to}, only if it still is
     * {@code expected}: the same node under the same epoch (compare-and-set, for handing a player
     * over). Completes with the new link (a new epoch), or empty when the link is no longer
     * {@code expected} (it moved, was relinked or removed since; nothing is changed). Moving to the
     * node it already points at completes with {@code expected} unchanged.
     */
    CompletableFuture<Optional<Link>> moveAsync(String token, Link expected, Node to);

    /** The id of the node of {@code service} that owns {@code token}, if any ({@link #linkOfAsync} without the epoch). */
    default CompletableFuture<Optional<String>> targetAsync(String token, String service) {
        return linkOfAsync(token, service).thenApply(link -> link.map(Link::nodeId));
    }

    /**
     * Links {@code token} to {@code candidate} unless the token already has an owner in the
     * candidate's service; completes with the owner's id either way (first writer wins;
     * {@link #claimAsync} without the epoch).
     */
    default CompletableFuture<String> linkAsync(String token, Node candidate) {
        return claimAsync(token, candidate).thenApply(Link::nodeId);
    }

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

    default Optional<Link> linkOf(String token, String service) {
        return join(linkOfAsync(token, service));
    }

    default Link claim(String token, Node candidate) {
        return join(claimAsync(token, candidate));
    }

    default Optional<Link> move(String token, Link expected, Node to) {
        return join(moveAsync(token, expected, to));
    }

    default Optional<String> target(String token, String service) {
        return join(targetAsync(token, service));
    }

    default String link(String token, Node candidate) {
        return join(linkAsync(token, candidate));
    }

    default Link relink(String token, Node node) {
        return join(relinkAsync(token, node));
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
