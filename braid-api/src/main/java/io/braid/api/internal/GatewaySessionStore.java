package io.braid.api.internal;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The durable part of braid-gateway's player sessions, kept in the control plane beside the links
 * (in memory for one JVM, or Redis): per token one <b>record</b> (the session id, a SHA-256 hash of
 * the session's resume secret, the gateway node holding the session, the last push sequence
 * number) and its <b>push log</b> (the latest pushes after the last one the client acknowledged,
 * bounded by count and bytes). So a push is acknowledged only once it is durable, and a session can
 * be resumed on any gateway after the one holding it died.
 *
 * <p>Every change is atomic per token (one Lua script on Redis, every key of a token in one Cluster
 * slot). Changes are conditional on the record naming the expected session (and gateway), so a
 * session that was replaced, taken over or ended can change nothing. A record and its log expire
 * {@code ttl} after they were last written or {@linkplain #touch touched}; an expired record is gone
 * (as if ended).
 *
 * <p>Failures (in the futures, as {@code BraidException}): UNAVAILABLE when the store cannot be
 * reached (then the outcome of a change is unknown); the codes named per method otherwise.
 * Thread-safe. Changes made through one store object are applied in the order they were called.
 */
public interface GatewaySessionStore {
    /**
     * Bounds of a push log: at most {@code maxPushes} pushes and {@code maxBytes} payload bytes; and
     * of the push ids a record remembers: the last {@code maxPushIds} (see {@link #append}).
     */
    record Bounds(int maxPushes, long maxBytes, int maxPushIds) {
        /**
         * The push ids a record remembers by default: the last 128, or fewer if the log holds fewer.
         * (On Redis 128 ids of up to 64 bytes stay a compact listpack: about 6 KiB for 128 UUIDs.)
         */
        public static final int DEFAULT_MAX_PUSH_IDS = 128;

        /** These log bounds, remembering the last {@code min(maxPushes, DEFAULT_MAX_PUSH_IDS)} push ids. */
        public Bounds(int maxPushes, long maxBytes) {
            this(maxPushes, maxBytes, Math.min(maxPushes, DEFAULT_MAX_PUSH_IDS));
        }
    }

    /** What a takeover hands the new holder: the session's last push seq and the pushes after the client's last. */
    record Replay(long lastSeq, List<Push> pushes) {
    }

    /** One logged push. */
    record Push(long seq, byte[] payload) {
    }

    /**
     * A new login: makes the record of {@code token} (replacing any older session's record and
     * log), held by {@code gateway}, last push seq 0.
     */
    CompletableFuture<Void> open(String token, String sessionId, byte[] secretHash, String gateway, Duration ttl);

    /**
     * What {@link #append} did: numbered the push {@code seq}, or found its push id {@code repeated}
     * (numbered {@code seq} before).
     */
    record Appended(long seq, boolean repeated) {
    }

    /**
     * Numbers a push of the session (its last push seq + 1), logs it within {@code bounds} (older
     * pushes fall out; one larger than {@code maxBytes} is numbered but not kept) and refreshes the
     * ttl; completes with its seq.
     *
     * <p><b>Push ids.</b> With {@code pushId} not null, the record remembers the ids of the
     * session's last {@code bounds.maxPushIds()} pushes that had one (for the record's life: a new
     * login's {@link #open} forgets them, a takeover keeps them). An id already remembered is not
     * appended again: the answer is the seq it was numbered with, {@code repeated} (its payload is
     * not compared; nothing changes). The check and the append are one atomic step, so a retry racing
     * its original is still one push. An id older than the window is numbered anew.
     *
     * @return fails NOT_FOUND when the token's record is gone or names another session;
     *     FAILED_PRECONDITION when it names another gateway (the session was taken over), also for a
     *     repeated id
     */
    CompletableFuture<Appended> append(String token, String sessionId, String gateway, String pushId, byte[] payload,
                                       Bounds bounds, Duration ttl);

    /**
     * Appends a push without an id (see {@link #append(String, String, String, String, byte[], Bounds, Duration)});
     * completes with its seq.
     */
    default CompletableFuture<Long> append(String token, String sessionId, String gateway, byte[] payload,
                                           Bounds bounds, Duration ttl) {
        return append(token, sessionId, gateway, null, payload, bounds, ttl).thenApply(Appended::seq);
    }

    /**
     * A resume: checks the session id and the presented secret's hash, drops the pushes up to
     * {@code seen} from the log, moves the record to {@code newGateway} with {@code newSecretHash}
     * (so the secret presented works no more, except as below), refreshes the ttl, and answers the
     * pushes after {@code seen}. With {@code expectedGateway} not null, only if the record names that
     * gateway. Idempotent for its claimant: a record whose hash already is {@code newSecretHash} is
     * taken over again (the first answer was lost; only gateways ever see a new hash, never a client).
     *
     * <p><b>The previous secret.</b> The record remembers the hash presented at its last takeover
     * (the secret the client surely holds: it may never have received the new one, if the answer
     * was lost). That hash is accepted in place of the current one only after the holder called
     * {@link #acceptPreviousSecret} (the resumed connection ended before the client proved it got
     * the new token), and then only for the window given there and until the next takeover. A
     * takeover with the previous hash remembers it again as the previous hash; a takeover with the
     * current hash remembers the current one, so an older secret never works again. So a client
     * whose Resumed answer was lost can ask again with the token it has, while a leaked old token
     * cannot resume a session whose client moved on (proved the new token) or is still attached.
     *
     * @return fails NOT_FOUND (no such record, another session, or another gateway than
     *     expected), UNAUTHENTICATED (wrong secret), INVALID_ARGUMENT ({@code seen} beyond the last
     *     push), RESOURCE_EXHAUSTED (a push after {@code seen} fell out of the log: nothing changed)
     */
    CompletableFuture<Replay> takeOver(String token, String sessionId, byte[] presentedHash, long seen,
                                       String expectedGateway, String newGateway, byte[] newSecretHash, Duration ttl);

    /**
     * The connection a resume gave to {@code sessionId} (held by {@code gateway}) ended before the
     * client proved it holds the new resume token (it sent no frame after Resumed): the secret
     * presented at that resume (see {@link #takeOver}) is accepted again for {@code window}, or until
     * the next takeover. True if the record names the session and gateway and remembers a previous
     * secret (a record made by {@link #open} has none).
     */
    CompletableFuture<Boolean> acceptPreviousSecret(String token, String sessionId, String gateway, Duration window);

    /** A session of {@code token} as {@link #touch} names it. */
    record Held(String token, String sessionId) {
    }

    /**
     * Refreshes the ttl of each record that still names its session and {@code gateway} (sign of
     * life); completes with the sessions whose token has no record at all: the store lost it (Redis
     * restarted empty, was flushed, or failed over without the last writes) or it expired. A record
     * naming another session or gateway (replaced by a login, taken over) is not in the answer.
     */
    CompletableFuture<List<Held>> touch(Collection<Held> sessions, String gateway, Duration ttl);

    /**
     * Compare-and-delete: removes the record and log of {@code token} if they name {@code sessionId}
     * and {@code gateway}; true if removed (this caller ended the session). Also drops the session
     * from the gateway's index.
     */
    CompletableFuture<Boolean> end(String token, String sessionId, String gateway);

    // The index of each gateway's sessions, for ending the sessions of a dead gateway exactly once.
    // open() adds a session to its gateway's index, takeOver() moves it to the new gateway's, end()
    // removes it. On Redis the index is another slot than the records: kept next to each change,
    // not atomically with it (a lost index write loses at most one CLOSED event, see the gateway README).

    /** The sessions indexed under {@code gateway}: opened or taken over by it, not ended, moved or unindexed since. */
    CompletableFuture<List<Held>> heldBy(String gateway);

    /** Drops a session from {@code gateway}'s index without ending it (it was replaced by a later login). */
    CompletableFuture<Void> unindex(String token, String sessionId, String gateway);

    /**
     * Ends a session of the dead {@code gateway} whose grace is over: claims its index entry (of
     * callers racing, exactly one gets it) and then, unless the record names another gateway or
     * session (it was resumed, or replaced by a later login), deletes the record; true if this caller
     * ended the session (and so fires its CLOSED), also when the record had expired already.
     */
    CompletableFuture<Boolean> endOrphan(String token, String sessionId, String gateway);
}
