package io.braid.examples.logic;

import io.braid.api.Player;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One player's state on the logic node that owns it. Not thread-safe, and needs not be: only the
 * player's lane touches it (its calls and timers, one at a time).
 *
 * <p>{@link #snapshot()} writes it in a fixed layout, all numbers big-endian:
 * <pre>
 *   byte   version (1)
 *   byte   flags: bit 0 logged in here, bit 1 reward owed, bit 2 reward promised
 *   long   counter
 *   long   gold
 *   int    length of the name in UTF-8 bytes, then those bytes
 * </pre>
 * The reward timer itself is not in the snapshot: a restored state that owes a reward has none
 * armed, and the service arms it again when the restored state is activated
 * ({@code PlayerStates.activated}, in the lane before any call).
 */
final class PlayerState {
    static final byte VERSION = 1;
    private static final int LOGGED_IN = 1;
    private static final int REWARD_OWED = 2;
    private static final int REWARD_PROMISED = 4;
    private static final int FIXED_BYTES = 1 + 1 + 8 + 8 + 4;

    /** The player's token (set at activation; not in a snapshot: the token restores it). */
    String token = "";
    /** The player's name as it logged in ("" until it does on this node). */
    String name = "";
    /** Clicks counted. */
    long counter;
    long gold;
    /** The player logged in on this node (or a node that handed it here) and has not logged out. */
    boolean loggedIn;
    /** A login promised the reward (once per player state: later logins promise none). */
    boolean rewardPromised;
    /** The promised reward is not given yet. */
    boolean rewardOwed;
    /** The armed reward timer, or null; never in a snapshot. */
    Player.Timer reward;
    /** This activation's record on its node (null until activated); never in a snapshot. */
    Activations.Entry activation;

    /** Forgets the player as a logout does: cancels its reward and sets every field as a fresh state has it. */
    void leave() {
        if (reward != null) {
            reward.cancel();
            reward = null;
        }
        name = "";
        counter = 0;
        gold = 0;
        loggedIn = false;
        rewardOwed = false;
        rewardPromised = false;
    }

    /** This state as bytes, in the layout above. */
    byte[] snapshot() {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        int flags = (loggedIn ? LOGGED_IN : 0) | (rewardOwed ? REWARD_OWED : 0)
                | (rewardPromised ? REWARD_PROMISED : 0);
        return ByteBuffer.allocate(FIXED_BYTES + nameBytes.length).put(VERSION).put((byte) flags)
                .putLong(counter).putLong(gold).putInt(nameBytes.length).put(nameBytes).array();
    }

    /**
     * The state {@link #snapshot()} wrote.
     *
     * @throws IllegalArgumentException for null bytes, another version, or bytes too short or too long
     */
    static PlayerState restore(byte[] snapshot) {
        if (snapshot == null) {
            throw new IllegalArgumentException("player snapshot is null: a restore needs the bytes snapshot() made");
        }
        ByteBuffer in = ByteBuffer.wrap(snapshot);
        try {
            byte version = in.get();
            if (version != VERSION) {
                throw new IllegalArgumentException("player snapshot version " + version + ", this node reads " + VERSION);
            }
            int flags = in.get();
            PlayerState state = new PlayerState();
            state.loggedIn = (flags & LOGGED_IN) != 0;
            state.rewardOwed = (flags & REWARD_OWED) != 0;
            state.rewardPromised = (flags & REWARD_PROMISED) != 0;
            state.counter = in.getLong();
            state.gold = in.getLong();
            int nameLength = in.getInt();
            if (nameLength < 0 || nameLength != in.remaining()) {
                throw new IllegalArgumentException("player snapshot of " + snapshot.length + " bytes gives a name of "
                        + nameLength + " bytes, " + in.remaining() + " remain");
            }
            byte[] nameBytes = new byte[nameLength];
            in.get(nameBytes);
            state.name = new String(nameBytes, StandardCharsets.UTF_8);
            return state;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("player snapshot of " + snapshot.length + " bytes is cut short (at least "
                    + FIXED_BYTES + ")", e);
        }
    }
}
