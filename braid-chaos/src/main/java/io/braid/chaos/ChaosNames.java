package io.braid.chaos;

/** Names the node processes and the orchestrator agree on. */
final class ChaosNames {
    static final String LOGIC = "logic";
    static final String GATEWAY = "gateway";
    static final String BOTS = "bots";
    /** Gateway method the bots call (stateless; request: the player token). */
    static final String PLAY = "play";
    /** Logic method the gateways call with the player's token. */
    static final String ACT = "act";
    static final String TOPIC = "chaos.ledger";
    /** Channel consumed by the logic nodes (competing consumers). */
    static final String LEDGER_CHANNEL = "ledger";
    /** Channel consumed by the gateways: a second consumer group of the same topic (fan-out). */
    static final String AUDIT_CHANNEL = "audit";
    /**
     * Channel consumed by the logic nodes whose handler is slow (tens of ms a message): it lags
     * behind the other two while the leaders trim the topic often.
     */
    static final String SLOW_CHANNEL = "slow";
    /** Every channel of the topic; each must handle every acknowledged message. */
    static final java.util.List<String> CHANNELS = java.util.List.of(LEDGER_CHANNEL, AUDIT_CHANNEL, SLOW_CHANNEL);
    /**
     * Logic stream method (token-sticky) some bots hold open: each message is {@code "k/seq"},
     * the bot's k-th stream and the message's number in it; the node answers each one.
     */
    static final String STREAM = "tell";
    /** Header carrying the publisher's sequence number. */
    static final String SEQ_HEADER = "seq";

    private ChaosNames() {
    }
}
