package io.braid.monitor.internal;

/**
 * The names of braid's meters and of their tags: one place, so dashboards, alerts and code agree.
 * Names are Micrometer's dotted form; Prometheus shows them with underscores, counters with
 * {@code _total} and timers with {@code _seconds} (for example
 * {@code braid_rpc_client_calls_seconds_count}).
 *
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>tags</th></tr>
 * <tr><td>{@value #RPC_CLIENT_CALLS}</td><td>timer (p99 over the last minute)</td><td>service, method, code</td></tr>
 * <tr><td>{@value #RPC_SERVER_CALLS}</td><td>timer (p99 over the last minute)</td><td>service, method, code</td></tr>
 * <tr><td>{@value #LINKCACHE_LOOKUPS}</td><td>counter</td><td>service, outcome (near_hit, redis_hit, miss, relink)</td></tr>
 * <tr><td>{@value #LINKCACHE_LINKS}</td><td>gauge</td><td>node</td></tr>
 * <tr><td>{@value #LINKCACHE_DISTRUSTED}</td><td>counter: periods in which the near cache did not vouch for its entries (lookups read Redis)</td><td>reason (disconnected, resubscribed, silent)</td></tr>
 * <tr><td>{@value #PUBSUB_PUBLISHED}</td><td>counter</td><td>topic</td></tr>
 * <tr><td>{@value #PUBSUB_DELIVERED}</td><td>counter</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_REDELIVERED}</td><td>counter</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_DEAD_LETTERED}</td><td>counter</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_BACKLOG}</td><td>gauge</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_PENDING}</td><td>gauge</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_CONSUMERS}</td><td>gauge</td><td>topic, channel</td></tr>
 * <tr><td>{@value #PUBSUB_DEAD_LETTERS}</td><td>gauge</td><td>topic</td></tr>
 * <tr><td>{@value #DISCOVER_NODES}</td><td>gauge</td><td>service, state (ACTIVE, DRAINING)</td></tr>
 * <tr><td>{@value #ELECTION_ROLE}</td><td>gauge, 1 for the node's current role, 0 for the others</td><td>service, role (WAIT, FOLLOWER, LEADER)</td></tr>
 * <tr><td>{@value #ELECTION_EPOCH}</td><td>gauge</td><td>service</td></tr>
 * <tr><td>{@value #PLAYERS_ACTIVE}</td><td>gauge: players active on this node now</td><td>service</td></tr>
 * <tr><td>{@value #PLAYERS_ACTIVATIONS}</td><td>counter</td><td>service, how (fresh, handoff, store)</td></tr>
 * <tr><td>{@value #PLAYERS_DEACTIVATIONS}</td><td>counter</td><td>service, why (left, idle, moved, closing)</td></tr>
 * <tr><td>{@value #PLAYERS_HANDOFFS}</td><td>counter: hand-overs of this node's players (drain, rebalance)</td><td>service, outcome (handed_over, stayed, stale, failed)</td></tr>
 * <tr><td>{@value #PLAYERS_HANDOFF_DURATION}</td><td>timer of the hand-overs that moved a player, offer to known outcome (p99 over the last minute)</td><td>service</td></tr>
 * <tr><td>{@value #PLAYERS_RECEIVED}</td><td>counter: players other nodes handed over to this one</td><td>service</td></tr>
 * <tr><td>{@value #PLAYERS_SAVES}</td><td>counter: saves of players' snapshots to their store</td><td>service, outcome (saved, refused, failed)</td></tr>
 * <tr><td>{@value #PLAYERS_REBALANCE_MOVES}</td><td>counter: players rebalance rounds set out to move</td><td>service</td></tr>
 * <tr><td>{@value #NODE_FENCED}</td><td>gauge, 1 while the node's self-fence is closed (it refuses token work), else 0</td><td>service</td></tr>
 * <tr><td>{@value #NODE_FENCE_CLOSURES}</td><td>counter: times the self-fence closed</td><td>service</td></tr>
 * <tr><td>{@value #LANE_DEPTH}</td><td>distribution summary: pieces ahead of each piece of work entering a token lane (0: it started at once); p99 over the last minute</td><td>service</td></tr>
 * <tr><td>{@value #LANE_WAIT}</td><td>timer: entering a lane to starting to run (p99 over the last minute)</td><td>service</td></tr>
 * <tr><td>{@value #LANE_RUN}</td><td>timer: a turn's run (p99 over the last minute)</td><td>service</td></tr>
 * </table>
 */
public final class BraidMeters {
    public static final String RPC_CLIENT_CALLS = "braid.rpc.client.calls";
    public static final String RPC_SERVER_CALLS = "braid.rpc.server.calls";
    public static final String LINKCACHE_LOOKUPS = "braid.linkcache.lookups";
    public static final String LINKCACHE_LINKS = "braid.linkcache.links";
    public static final String LINKCACHE_DISTRUSTED = "braid.linkcache.distrusted";
    public static final String PUBSUB_PUBLISHED = "braid.pubsub.published";
    public static final String PUBSUB_DELIVERED = "braid.pubsub.delivered";
    public static final String PUBSUB_REDELIVERED = "braid.pubsub.redelivered";
    public static final String PUBSUB_DEAD_LETTERED = "braid.pubsub.dead_lettered";
    public static final String PUBSUB_BACKLOG = "braid.pubsub.backlog";
    public static final String PUBSUB_PENDING = "braid.pubsub.pending";
    public static final String PUBSUB_CONSUMERS = "braid.pubsub.consumers";
    public static final String PUBSUB_DEAD_LETTERS = "braid.pubsub.dead_letters";
    public static final String DISCOVER_NODES = "braid.discover.nodes";
    public static final String ELECTION_ROLE = "braid.election.role";
    public static final String ELECTION_EPOCH = "braid.election.epoch";
    public static final String PLAYERS_ACTIVE = "braid.players.active";
    public static final String PLAYERS_ACTIVATIONS = "braid.players.activations";
    public static final String PLAYERS_DEACTIVATIONS = "braid.players.deactivations";
    public static final String PLAYERS_HANDOFFS = "braid.players.handoffs";
    public static final String PLAYERS_HANDOFF_DURATION = "braid.players.handoff.duration";
    public static final String PLAYERS_RECEIVED = "braid.players.received";
    public static final String PLAYERS_SAVES = "braid.players.saves";
    public static final String PLAYERS_REBALANCE_MOVES = "braid.players.rebalance.moves";
    public static final String NODE_FENCED = "braid.node.fenced";
    public static final String NODE_FENCE_CLOSURES = "braid.node.fence.closures";
    public static final String LANE_DEPTH = "braid.lane.depth";
    public static final String LANE_WAIT = "braid.lane.wait";
    public static final String LANE_RUN = "braid.lane.run";

    public static final String TAG_SERVICE = "service";
    public static final String TAG_METHOD = "method";
    public static final String TAG_CODE = "code";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_NODE = "node";
    public static final String TAG_TOPIC = "topic";
    public static final String TAG_CHANNEL = "channel";
    public static final String TAG_STATE = "state";
    public static final String TAG_ROLE = "role";
    public static final String TAG_REASON = "reason";
    public static final String TAG_HOW = "how";
    public static final String TAG_WHY = "why";

    /** {@value #LINKCACHE_LOOKUPS} outcomes. */
    public static final String OUTCOME_NEAR_HIT = "near_hit";
    public static final String OUTCOME_REDIS_HIT = "redis_hit";
    public static final String OUTCOME_MISS = "miss";
    public static final String OUTCOME_RELINK = "relink";
    /** {@value #PLAYERS_HANDOFFS} outcomes besides the lower-case names of {@code PlayerListener.NotMoved}. */
    public static final String OUTCOME_HANDED_OVER = "handed_over";

    private BraidMeters() {
    }
}
