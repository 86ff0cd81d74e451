package io.braid.api.internal;

import java.util.Map;

/**
 * Adds what a module knows of a player to the monitor's "where is a player?" (the gateway: its
 * session, bound / detached with seconds left / resumed). A node asks each contributor registered
 * with it when the monitor asks the node about a token; what they give is shown as key/values
 * under the node's name. Called on any thread; must be quick, must not block and should not throw
 * (a contributor that throws is shown as {@code contributor.error}).
 */
@FunctionalInterface
public interface PlayerViewContributor {
    /** Key/values about {@code token}, empty when this module knows nothing of it; never null. */
    Map<String, String> describe(String token);
}
