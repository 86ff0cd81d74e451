package io.braid.api.internal;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What one node knows of one player token, for the monitor's "where is a player?": whether the
 * player is active here and under which link epoch, the calls waiting in its lane, its last calls
 * run here, its moves through this node, and what {@link PlayerViewContributor}s add.
 *
 * @param servesPlayers whether this node serves players at all (a node without them knows only {@code extra})
 * @param active        whether the player is active on this node now
 * @param epoch         the link epoch it is active under (0 when not active)
 * @param laneWaiting   calls waiting in its lane now, behind the one running
 * @param calls         its last calls run here, oldest first
 * @param moves         its moves through this node, oldest first
 * @param extra         key/values from the node's contributors (e.g. the gateway's session state)
 */
public record PlayerReport(boolean servesPlayers, boolean active, long epoch, int laneWaiting, List<Call> calls,
                           List<Move> moves, Map<String, String> extra) {
    /** A node that knows nothing of the player. */
    public static final PlayerReport NOTHING = new PlayerReport(false, false, 0, 0, List.of(), List.of(), Map.of());

    public PlayerReport {
        calls = List.copyOf(calls);
        moves = List.copyOf(moves);
        extra = Map.copyOf(extra);
    }

    /**
     * One call run in the player's lane here.
     *
     * @param atMillis wall-clock milliseconds when it began to run
     * @param method   the player method
     * @param micros   how long it ran, in microseconds
     * @param code     how it ended: {@code OK} or the {@link io.braid.api.Code} name of its error
     */
    public record Call(long atMillis, String method, long micros, String code) {
        public Call {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(code, "code");
        }
    }

    /**
     * One move of the player through this node.
     *
     * @param atMillis wall-clock milliseconds
     * @param kind     ACTIVATED, RECEIVED, HANDED_OVER, RELOCATED or DEACTIVATED
     * @param reason   how or why: the activation (FRESH, HANDOFF, STORE), the deactivation (LEFT, IDLE,
     *                 MOVED, CLOSING), or the reason of a hand-over (drain, rebalance)
     * @param detail   one short line: epochs, the other node
     */
    public record Move(long atMillis, String kind, String reason, String detail) {
        public Move {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }
}
