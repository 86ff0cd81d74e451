package io.braid.rpc.internal.lane;

import io.braid.api.CallContext;
import io.braid.rpc.internal.ServingCall;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The lanes a chain of calls is in, carried in request metadata under {@link #KEY} the way a
 * handler's deadline is carried into the calls it makes: a call made while serving another takes
 * the chain the served call came with, plus the served call's own lane when it runs in one.
 *
 * <p>Why: a handler holds its token's lane for its whole turn. If it (directly, or through other
 * services and nodes) calls back into that same lane, the call waits behind the turn that waits for
 * it: a deadlock until the deadline. Running it re-entrantly instead would let a second piece of
 * that token's work run in the middle of the first one's turn, which breaks the lane's one promise.
 * So a server refuses such a call at once with FAILED_PRECONDITION naming the token and the method.
 *
 * <p>A lane is named by the node id of its server and the token, so a call into the same token's
 * lane on another node is not refused. Encoding: each lane is {@code <length>:<node id><length>:<token>},
 * lanes simply follow each other (token and node id may hold any character). A value that does not
 * parse counts as naming no lane. Stateless and thread-safe.
 */
public final class LaneChain {
    /** The metadata key of the chain. */
    public static final String KEY = "braid-lanes";

    private LaneChain() {
    }

    /** {@code chain} (null: none) followed by the lane of {@code token} on node {@code nodeId}. */
    public static String extend(String chain, String nodeId, String token) {
        StringBuilder out = new StringBuilder((chain == null ? 0 : chain.length()) + nodeId.length() + token.length() + 12);
        if (chain != null) {
            out.append(chain);
        }
        return out.append(nodeId.length()).append(':').append(nodeId)
                .append(token.length()).append(':').append(token).toString();
    }

    /** Whether {@code chain} (null: none) names the lane of {@code token} on node {@code nodeId}. */
    public static boolean contains(String chain, String nodeId, String token) {
        if (chain == null || chain.isEmpty()) {
            return false;
        }
        int at = 0;
        while (at < chain.length()) {
            int nodeEnd = skip(chain, at);
            if (nodeEnd < 0) {
                return false;
            }
            int tokenEnd = skip(chain, nodeEnd);
            if (tokenEnd < 0) {
                return false;
            }
            if (matches(chain, at, nodeEnd, nodeId) && matches(chain, nodeEnd, tokenEnd, token)) {
                return true;
            }
            at = tokenEnd;
        }
        return false;
    }

    /** The end of the field {@code <length>:<text>} that starts at {@code at}, or -1. */
    private static int skip(String chain, int at) {
        int colon = chain.indexOf(':', at);
        if (colon <= at || colon - at > 9) {
            return -1;
        }
        int length = 0;
        for (int i = at; i < colon; i++) {
            char c = chain.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            length = length * 10 + (c - '0');
        }
        int end = colon + 1 + length;
        return end > chain.length() ? -1 : end;
    }

    private static boolean matches(String chain, int fieldStart, int fieldEnd, String value) {
        int text = chain.indexOf(':', fieldStart) + 1;
        return fieldEnd - text == value.length() && chain.regionMatches(text, value, 0, value.length());
    }

    /**
     * The chain a call made on this thread carries: that of the call being served here, if any
     * (with its own lane when it runs in one). Null when there is none.
     */
    public static String ofServingCall() {
        CallContext serving = ServingCall.currentOrNull();
        if (serving == null) {
            return null;
        }
        if (serving instanceof Carrier laned) {
            return laned.laneChain();
        }
        return serving.metadata().get(KEY);
    }

    /**
     * {@code metadata} with the chain of the call served on this thread put under {@link #KEY}; the
     * same map, untouched, when this thread serves no call that is in or came through a lane.
     */
    public static Map<String, String> carry(Map<String, String> metadata) {
        String chain = ofServingCall();
        if (chain == null) {
            return metadata;
        }
        Map<String, String> with = new LinkedHashMap<>(metadata);
        with.put(KEY, chain);
        return with;
    }

    /** The message of a refused re-entry. */
    public static String reentryRefusal(String method, String token, String nodeId) {
        return "call of '" + method + "' for token " + token + " refused: it was made (directly or through other "
                + "calls) by a handler running in that token's lane on node " + nodeId + ", and would wait behind the "
                + "turn that waits for it until its deadline. Do that work in the running handler, or make the call "
                + "after its turn ends.";
    }

    /** A served call that knows the chain its own calls carry. */
    public interface Carrier {
        /** The chain the calls made while serving it carry: the one it came with, plus its own lane if it runs in one. */
        String laneChain();
    }
}
