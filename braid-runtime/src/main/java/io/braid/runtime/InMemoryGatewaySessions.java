package io.braid.runtime;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Ticker;
import io.braid.api.internal.GatewaySessionStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The gateway session records of an {@link InMemoryControlPlane}: shared by every node of the
 * plane, so a gateway reads what another (closed or "crashed") gateway wrote. One lock; every
 * method completes before it returns. Expiry is checked lazily against {@code ticker} (an expired
 * record is treated as gone and removed when next looked at).
 */
final class InMemoryGatewaySessions implements GatewaySessionStore {
    private final Ticker ticker;
    private final Map<String, Entry> records = new HashMap<>();
    /** Gateway node id to the sessions indexed under it (token to session id). */
    private final Map<String, Map<String, String>> index = new HashMap<>();
    /** Opens since the last sweep of expired records (a record nobody looks at again must not stay). */
    private int opens;

    InMemoryGatewaySessions(Ticker ticker) {
        this.ticker = ticker;
    }

    private static final class Entry {
        final String sessionId;
        byte[] secretHash;
        String gateway;
        long lastSeq;
        long droppedThrough;
        long bytes;
        long expiresAt;
        /** The hash presented at the last takeover (null: none yet), and until when it is accepted again. */
        byte[] previousHash;
        boolean previousAccepted;
        long previousUntil;
        final ArrayDeque<Push> log = new ArrayDeque<>();
        /** The ids of the last pushes that had one (at most the bounds' maxPushIds), oldest first, to their seq. */
        final LinkedHashMap<String, Long> pushIds = new LinkedHashMap<>();

        Entry(String sessionId, byte[] secretHash, String gateway) {
            this.sessionId = sessionId;
            this.secretHash = secretHash.clone();
            this.gateway = gateway;
        }
    }

    @Override
    public synchronized CompletableFuture<Void> open(String token, String sessionId, byte[] secretHash, String gateway,
                                                     Duration ttl) {
        if (++opens >= 1024) {
            opens = 0;
            long now = ticker.read();
            records.values().removeIf(old -> now - old.expiresAt >= 0);
        }
        Entry entry = new Entry(sessionId, secretHash, gateway);
        entry.expiresAt = ticker.read() + ttl.toNanos();
        records.put(token, entry);
        index.computeIfAbsent(gateway, id -> new HashMap<>()).put(token, sessionId);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Appended> append(String token, String sessionId, String gateway,
                                                           String pushId, byte[] payload, Bounds bounds, Duration ttl) {
        Entry entry = live(token);
        if (entry == null || !entry.sessionId.equals(sessionId)) {
            return CompletableFuture.failedFuture(new BraidException(Code.NOT_FOUND, "session " + sessionId
                    + " of token " + token + " has no record (ended, expired or replaced)"));
        }
        if (!entry.gateway.equals(gateway)) {
            return CompletableFuture.failedFuture(new BraidException(Code.FAILED_PRECONDITION, "session " + sessionId
                    + " of token " + token + " was taken over by gateway " + entry.gateway));
        }
        if (pushId != null) {
            Long known = entry.pushIds.get(pushId);
            if (known != null) {
                return CompletableFuture.completedFuture(new Appended(known, true));
            }
        }
        long seq = ++entry.lastSeq;
        if (pushId != null) {
            entry.pushIds.put(pushId, seq);
            Iterator<String> oldest = entry.pushIds.keySet().iterator();
            while (entry.pushIds.size() > bounds.maxPushIds()) {
                oldest.next();
                oldest.remove();
            }
        }
        entry.log.addLast(new Push(seq, payload.clone()));
        entry.bytes += payload.length;
        while (!entry.log.isEmpty() && (entry.log.size() > bounds.maxPushes() || entry.bytes > bounds.maxBytes())) {
            Push out = entry.log.removeFirst();
            entry.bytes -= out.payload().length;
            entry.droppedThrough = out.seq();
        }
        entry.expiresAt = ticker.read() + ttl.toNanos();
        return CompletableFuture.completedFuture(new Appended(seq, false));
    }

    @Override
    public synchronized CompletableFuture<Replay> takeOver(String token, String sessionId, byte[] presentedHash,
                                                           long seen, String expectedGateway, String newGateway,
                                                           byte[] newSecretHash, Duration ttl) {
        Entry entry = live(token);
        if (entry == null || !entry.sessionId.equals(sessionId)
                || (expectedGateway != null && !entry.gateway.equals(expectedGateway))) {
            return CompletableFuture.failedFuture(new BraidException(Code.NOT_FOUND, "session " + sessionId
                    + " of token " + token + " cannot be resumed: it ended (grace over, logged out) or a later login"
                    + " or resume replaced it; log in afresh"));
        }
        // The new hash already in place: the same claimant asking again (its first answer was lost).
        boolean retry = MessageDigest.isEqual(entry.secretHash, newSecretHash);
        boolean previous = entry.previousAccepted && entry.previousHash != null
                && ticker.read() - entry.previousUntil < 0 && MessageDigest.isEqual(entry.previousHash, presentedHash);
        if (!MessageDigest.isEqual(entry.secretHash, presentedHash) && !retry && !previous) {
            return CompletableFuture.failedFuture(new BraidException(Code.UNAUTHENTICATED, "wrong resume token for"
                    + " session " + sessionId + "; log in afresh"));
        }
        if (seen > entry.lastSeq) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT, "last_push_seq " + seen
                    + " is beyond the session's last push " + entry.lastSeq));
        }
        if (seen < entry.droppedThrough) {
            return CompletableFuture.failedFuture(gap(seen, entry.droppedThrough));
        }
        while (!entry.log.isEmpty() && entry.log.peekFirst().seq() <= seen) {
            entry.bytes -= entry.log.removeFirst().payload().length;
        }
        entry.droppedThrough = seen;
        unindexHere(token, sessionId, entry.gateway);
        index.computeIfAbsent(newGateway, id -> new HashMap<>()).put(token, sessionId);
        entry.gateway = newGateway;
        if (!retry) {
            entry.previousHash = presentedHash.clone();
            entry.previousAccepted = false;
        }
        entry.secretHash = newSecretHash.clone();
        entry.expiresAt = ticker.read() + ttl.toNanos();
        List<Push> replay = new ArrayList<>(entry.log.size());
        for (Push push : entry.log) {
            replay.add(new Push(push.seq(), push.payload().clone()));
        }
        return CompletableFuture.completedFuture(new Replay(entry.lastSeq, replay));
    }

    @Override
    public synchronized CompletableFuture<Boolean> acceptPreviousSecret(String token, String sessionId, String gateway,
                                                                        Duration window) {
        Entry entry = live(token);
        if (entry == null || !entry.sessionId.equals(sessionId) || !entry.gateway.equals(gateway)
                || entry.previousHash == null) {
            return CompletableFuture.completedFuture(false);
        }
        entry.previousAccepted = true;
        entry.previousUntil = ticker.read() + window.toNanos();
        return CompletableFuture.completedFuture(true);
    }

    static BraidException gap(long seen, long droppedThrough) {
        return new BraidException(Code.RESOURCE_EXHAUSTED, "pushes " + (seen + 1) + ".." + droppedThrough
                + " are no longer in the replay buffer (bounds replayMaxPushes, replayMaxBytes): the session cannot"
                + " be resumed exactly; log in afresh");
    }

    @Override
    public synchronized CompletableFuture<List<Held>> touch(Collection<Held> sessions, String gateway, Duration ttl) {
        long expiresAt = ticker.read() + ttl.toNanos();
        List<Held> lost = new ArrayList<>();
        for (Held held : sessions) {
            Entry entry = live(held.token());
            if (entry == null) {
                lost.add(held);
            } else if (entry.sessionId.equals(held.sessionId()) && entry.gateway.equals(gateway)) {
                entry.expiresAt = expiresAt;
            }
        }
        return CompletableFuture.completedFuture(lost);
    }


    @Override
    public synchronized CompletableFuture<Boolean> end(String token, String sessionId, String gateway) {
        Entry entry = live(token);
        if (entry == null || !entry.sessionId.equals(sessionId) || !entry.gateway.equals(gateway)) {
            return CompletableFuture.completedFuture(false);
        }
        records.remove(token);
        unindexHere(token, sessionId, gateway);
        return CompletableFuture.completedFuture(true);
    }

    @Override
    public synchronized CompletableFuture<List<Held>> heldBy(String gateway) {
        Map<String, String> held = index.getOrDefault(gateway, Map.of());
        return CompletableFuture.completedFuture(held.entrySet().stream()
                .map(entry -> new Held(entry.getKey(), entry.getValue())).toList());
    }

    @Override
    public synchronized CompletableFuture<Void> unindex(String token, String sessionId, String gateway) {
        unindexHere(token, sessionId, gateway);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized CompletableFuture<Boolean> endOrphan(String token, String sessionId, String gateway) {
        if (!unindexHere(token, sessionId, gateway)) {
            return CompletableFuture.completedFuture(false);
        }
        Entry entry = live(token);
        if (entry != null && (!entry.sessionId.equals(sessionId) || !entry.gateway.equals(gateway))) {
            return CompletableFuture.completedFuture(false);
        }
        records.remove(token);
        return CompletableFuture.completedFuture(true);
    }

    /** Removes the index entry; true if it was there. */
    private boolean unindexHere(String token, String sessionId, String gateway) {
        Map<String, String> held = index.get(gateway);
        if (held == null || !held.remove(token, sessionId)) {
            return false;
        }
        if (held.isEmpty()) {
            index.remove(gateway);
        }
        return true;
    }

    /** The token's record unless it expired (then it is removed). */
    private Entry live(String token) {
        Entry entry = records.get(token);
        if (entry != null && ticker.read() - entry.expiresAt >= 0) {
            records.remove(token);
            return null;
        }
        return entry;
    }

    /** Records held now, expired or not (for tests of leaks). */
    synchronized int size() {
        return records.size();
    }
}
