package io.braid.chaos;

/** The faults a schedule draws from. */
enum FaultKind {
    KILL_LOGIC("kill -9 of a logic node (not the leader), replacement started"),
    KILL_GATEWAY("kill -9 of a gateway, replacement started"),
    KILL_LEADER("kill -9 of the logic leader, replacement started"),
    STOP_NODE("SIGSTOP of a logic node (not the leader) for TTL + 1 s, then SIGCONT"),
    STOP_LEADER("SIGSTOP of the logic leader for its lease + 1 s, then SIGCONT"),
    REDIS_KILL("kill -9 of redis-server, restarted on its AOF"),
    REDIS_PAUSE("SIGSTOP of redis-server for 1-3 s, then SIGCONT");

    final String description;

    FaultKind(String description) {
        this.description = description;
    }
}
