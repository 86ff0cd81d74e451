package io.braid.api.internal;

/**
 * Hears the changes of links that a {@code RedisLinkCache} learns of on its invalidation channel,
 * its own changes included: what an owner node needs to stop acting for a player the moment the
 * player is given to another node. Every change of a link is published from inside the script that
 * makes it, so a watcher hears each change that its connection delivers; when deliveries may have
 * been lost it is told so, and must re-check what it depends on against the store.
 *
 * <p>Called on the link cache's pub/sub thread (or the thread that completed the cache's own
 * change), in the order Redis delivered the changes; must be quick, must not block and must not
 * throw.
 */
public interface LinkWatcher {
    /**
     * The link of {@code token} in {@code service} changed: it now points at {@code owner} under
     * {@code epoch}, or at nothing ({@code null}) when the link of that {@code epoch} was removed.
     * Changes of one token arrive in the order they were made, so their epochs grow (a removal
     * carries the epoch of the link it removed, equal to the last change's).
     */
    void changed(String token, String service, String owner, long epoch);

    /** Every link of the node {@code nodeId} was removed (the leader of its service saw it gone). */
    void nodeCleared(String nodeId);

    /**
     * Changes may have been missed: the invalidation connection dropped, was subscribed anew, or
     * went silent past the staleness bound. Re-check what depends on the links.
     */
    void mayHaveMissed();
}
