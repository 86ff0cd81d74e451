package io.braid.linkcache.internal;

/**
 * The player stores' argument checks, beside the link caches' ({@link LinkArguments}, whose token
 * and service rules they share: a snapshot is kept under the same token and service names as the
 * link that fences it). Each returns what is wrong ({@code null} when nothing is), for
 * {@link LinkArguments#refused}: a call that returns a future never throws for a bad argument.
 */
final class PlayerStoreArguments {
    private PlayerStoreArguments() {
    }

    /** What is wrong with the arguments of a load, or null. */
    static String load(String service, String token) {
        return LinkArguments.tokenAndService(token, service);
    }

    /** What is wrong with the arguments of a delete, or null. */
    static String delete(String service, String token, long epoch) {
        String bad = LinkArguments.tokenAndService(token, service);
        if (bad == null && epoch < 0) {
            bad = "epoch must be 0 or more (the epoch of the link the player was activated under), was " + epoch;
        }
        return bad;
    }

    /** What is wrong with the arguments of a save, or null. */
    static String save(String service, String token, long epoch, byte[] snapshot) {
        String bad = delete(service, token, epoch);
        if (bad == null && snapshot == null) {
            bad = "snapshot must not be null (an empty state is zero bytes)";
        }
        return bad;
    }
}
