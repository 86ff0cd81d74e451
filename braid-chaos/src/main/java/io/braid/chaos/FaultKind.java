package io.braid.chaos;

/** The faults a schedule draws from. */
enum FaultKind {
    KILL_LOGIC("kill -9 of a logic node (not the leader), replacement started"),
    KILL_GATEWAY("kill -9 of a gateway, replacement started"),
    KILL_LEADER("kill -9 of the logic leader, replacement started"),
    STOP_NODE("SIGSTOP of a logic node (not the leader) for TTL + 1 s, then SIGCONT"),
    STOP_LEADER("SIGSTOP of the logic leader for its lease + 1 s, then SIGCONT"),
    REDIS_KILL("kill -9 of redis-server, restarted on its AOF"),
    REDIS_PAUSE("SIGSTOP of redis-server for 1-3 s, then SIGCONT"),
    REDIS_RESTART_EMPTY("redis-server restarted without its data (every key gone; same port)"),
    FLUSHALL("FLUSHALL while the logic election runs: right after the leader renewed its lease (even picks) "
            + "or at a random moment (odd picks)"),
    CLIENT_KILL_PUBSUB("CLIENT KILL TYPE pubsub (every node's pub/sub connections dropped at once), each time "
            + "followed at once by a relink of a player (no stream) to another logic node, 4 times; then 2 s of play"),
    BLACKHOLE("black-hole partition between one logic node (the one serving a player's open stream) and Redis "
            + "(its proxy holds every byte, no socket closes) for TTL + 1-2 s, then restored"),
    CLUSTER_FAILOVER("CLUSTER FAILOVER: a master hands its slots to its replica (the master of the logic "
            + "election key, or another by the pick)"),
    CLUSTER_KILL_MASTER("kill -9 of a Cluster master; the cluster promotes its replica; the killed node "
            + "restarts as a replica"),
    DRAIN_HANDOFF("SIGTERM of a logic node (any, the leader too): Braid.run drains it, handing its players "
            + "over live; once it has exited a replacement starts");

    /** The kinds a run on one redis-server draws from. */
    static final java.util.List<FaultKind> SINGLE_REDIS = java.util.List.of(KILL_LOGIC, KILL_GATEWAY, KILL_LEADER,
            STOP_NODE, STOP_LEADER, REDIS_KILL, REDIS_PAUSE, REDIS_RESTART_EMPTY, FLUSHALL, CLIENT_KILL_PUBSUB,
            BLACKHOLE, DRAIN_HANDOFF);
    /** The kinds a run on a Redis Cluster draws from. */
    static final java.util.List<FaultKind> CLUSTER = java.util.List.of(KILL_LOGIC, KILL_GATEWAY, KILL_LEADER,
            STOP_NODE, STOP_LEADER, CLUSTER_FAILOVER, CLUSTER_KILL_MASTER, FLUSHALL, CLIENT_KILL_PUBSUB,
            DRAIN_HANDOFF);

    /** Faults of the store itself: they are noticed by the first failed bot call, not by discovery. */
    boolean isRedisFault() {
        return this == REDIS_KILL || this == REDIS_PAUSE || this == CLUSTER_FAILOVER || this == CLUSTER_KILL_MASTER
                || this == REDIS_RESTART_EMPTY || this == FLUSHALL;
    }

    /** Faults that lose the store's data: what was acknowledged before them may be lost with it. */
    boolean losesData() {
        return this == REDIS_RESTART_EMPTY || this == FLUSHALL;
    }

    /**
     * Faults after which the store may not hold a write it acknowledged: the data-loss kinds, and
     * a Cluster master killed before its replica (replicated asynchronously) got its last writes.
     * A player's saved state may go back across them (counted by the player-state checker).
     */
    boolean forgetsWrites() {
        return losesData() || this == CLUSTER_KILL_MASTER;
    }

    final String description;

    FaultKind(String description) {
        this.description = description;
    }
}
