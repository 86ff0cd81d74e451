package io.braid.linkcache.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.Node;
import java.util.concurrent.CompletableFuture;

/**
 * The link caches' argument checks, in one place. Each returns what is wrong ({@code null} when
 * nothing is) instead of throwing, so a call that returns a future can fail that future with
 * {@link #refused}: the project's rule is that such a call never throws for a bad argument.
 */
final class LinkArguments {
    static final int MAX_TOKEN_LENGTH = 512;

    private LinkArguments() {
    }

    /** What is wrong with {@code token}, or null. */
    static String token(String token) {
        if (token == null || token.isBlank()) {
            return "token must not be blank";
        }
        if (token.length() > MAX_TOKEN_LENGTH) {
            return "token must be at most " + MAX_TOKEN_LENGTH + " characters, was " + token.length();
        }
        return null;
    }

    /** What is wrong with {@code token} or {@code service}, or null. */
    static String tokenAndService(String token, String service) {
        String bad = token(token);
        return bad != null ? bad : service(service, "service");
    }

    /**
     * What is wrong with a service name, or null. A NUL character separates the parts of a link's
     * key and its invalidation message (and names the epoch field in Redis), so no service holds one.
     */
    private static String service(String service, String name) {
        if (service == null || service.isBlank()) {
            return name + " must not be blank";
        }
        if (service.indexOf('\u0000') >= 0) {
            return name + " must not contain a NUL character, was '" + service.replace('\u0000', '?') + "'";
        }
        return null;
    }

    /** What is wrong with {@code token} or the node named {@code name}, or null. */
    static String tokenAndNode(String token, Node node, String name) {
        String bad = token(token);
        return bad != null ? bad : node(node, name);
    }

    /** What is wrong with the node named {@code name}, or null. */
    static String node(Node node, String name) {
        return node == null ? name + " must not be null" : service(node.service(), name + "'s service");
    }

    /** What is wrong with the arguments of a move, or null. */
    static String move(String token, Link expected, Node to) {
        String bad = tokenAndNode(token, to, "to");
        if (bad == null && expected == null) {
            bad = "expected must not be null (the link the move starts from, as read)";
        }
        return bad;
    }

    /** What is wrong with {@code nodeId}, or null. */
    static String nodeId(String nodeId) {
        return nodeId == null || nodeId.isBlank() ? "nodeId must not be blank" : null;
    }

    /** A future failed with {@link Code#INVALID_ARGUMENT} saying {@code problem}. */
    static <T> CompletableFuture<T> refused(String problem) {
        return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT, problem));
    }
}
