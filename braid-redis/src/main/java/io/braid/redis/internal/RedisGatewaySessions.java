package io.braid.redis.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.redis.RedisConnector;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * braid-gateway's session records and push logs on Redis (standalone, Sentinel or Cluster).
 *
 * <p>Keys, both in the slot of the hash tag {@code {gw:T}} (T the player's token):
 * {@code braid:{gw:T}:s} HASH {@code sid} (session id), {@code hash} (SHA-256 of the resume
 * secret), {@code gw} (gateway node id), {@code last} (last push seq), {@code dropped} (pushes up to
 * this seq are no longer logged), {@code bytes} (payload bytes logged); and {@code braid:{gw:T}:log}
 * LIST of the payloads of pushes {@code dropped+1 .. last}, oldest first. Every change is one Lua
 * script on both keys, and sets both keys' PEXPIRE to the ttl given. The record's field {@code prev}
 * holds the hash presented at the last takeover; {@code braid:{gw:T}:prev} exists (PEXPIRE the
 * window of {@link #acceptPreviousSecret}) while that hash is accepted again (see
 * {@link GatewaySessionStore#takeOver}). {@code braid:{gw:T}:ids} ZSET push id → seq holds the ids of
 * the session's last {@code maxPushIds} pushes that had one (the lowest seqs fall out), checked and
 * added by the append script (see {@link GatewaySessionStore#append}).
 *
 * <p>The index of each gateway's sessions: {@code braid:{gwidx:G}} SET of {@code <session id> <token>}
 * (G the gateway node id), in another slot than the records, so it is written next to each change
 * (SADD after open and takeover, SREM after end, takeover and unindex), not atomically with it. Its
 * PEXPIRE (1 h) is refreshed with the gateway's records; {@link #endOrphan} claims an entry with
 * SREM (exactly one caller gets 1), then ends the record with a script.
 *
 * <p>The secret's hash is compared inside the script with {@code ~=}, which is not constant-time:
 * what it could leak is how many leading bytes of the SHA-256 of a guess match the stored hash,
 * which says nothing about the 192-bit secret itself (finding a guess whose hash shares more
 * leading bytes is a preimage search). Only the hash is stored, so reading Redis gives no resume
 * token either.
 *
 * <p>Commands go on one binary connection of this store's own, in the order they are called (so
 * appends of one session are applied in the order the gateway numbered them), through a
 * {@link CommandQueue}: at most {@link CommandQueue#DEFAULT_MAX_IN_FLIGHT} are sent and unanswered
 * at a time; the rest of a burst (a reconnect storm, the refresh of thousands of records, a push to
 * every player) waits in order, where no command timer runs: Lettuce starts a command's timeout
 * when the command is sent, so a burst sent at once would fail the commands at its tail
 * UNAVAILABLE while Redis, answering all along, worked through the head. When a sent command fails
 * because Redis is unreachable (timed out, connection lost), every waiting command fails
 * UNAVAILABLE at once rather than wait its turn to time out.
 * Thread-safe; {@link #close()} closes the connection (failing what waits), never the borrowed
 * connector.
 */
public final class RedisGatewaySessions implements GatewaySessionStore, AutoCloseable {
    private static final RedisScript OPEN = new RedisScript("gw-open", """
            redis.call('DEL', KEYS[4])
            redis.call('DEL', KEYS[3])
            redis.call('DEL', KEYS[2])
            redis.call('DEL', KEYS[1])
            redis.call('HSET', KEYS[1], 'sid', ARGV[1], 'hash', ARGV[2], 'gw', ARGV[3], 'last', 0, 'dropped', 0,
                'bytes', 0)
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return 1
            """);
    private static final RedisScript APPEND = new RedisScript("gw-append", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'gw', 'last', 'dropped', 'bytes')
            if not r[1] or r[1] ~= ARGV[1] then return {-1} end
            if r[2] ~= ARGV[2] then return {-2} end
            local id = ARGV[7]
            if id ~= '' then
              local known = redis.call('ZSCORE', KEYS[4], id)
              if known then return {tonumber(known), 1} end
            end
            local last = tonumber(r[3]) + 1
            local dropped = tonumber(r[4])
            local bytes = tonumber(r[5]) + string.len(ARGV[3])
            redis.call('RPUSH', KEYS[2], ARGV[3])
            local n = last - dropped
            local maxPushes = tonumber(ARGV[4])
            local maxBytes = tonumber(ARGV[5])
            while n > 0 and (n > maxPushes or bytes > maxBytes) do
              local out = redis.call('LPOP', KEYS[2])
              bytes = bytes - string.len(out)
              dropped = dropped + 1
              n = n - 1
            end
            redis.call('HSET', KEYS[1], 'last', last, 'dropped', dropped, 'bytes', bytes)
            if id ~= '' then
              redis.call('ZADD', KEYS[4], last, id)
              local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[8])
              if over > 0 then redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1) end
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[6])
            redis.call('PEXPIRE', KEYS[2], ARGV[6])
            redis.call('PEXPIRE', KEYS[4], ARGV[6])
            return {last, 0}
            """);
    private static final RedisScript TAKE_OVER = new RedisScript("gw-take-over", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'hash', 'gw', 'last', 'dropped', 'bytes', 'prev')
            if not r[1] or r[1] ~= ARGV[1] or (ARGV[4] ~= '' and r[3] ~= ARGV[4]) then return {-1} end
            local retry = r[2] == ARGV[6]
            local previous = r[7] and r[7] == ARGV[2] and redis.call('EXISTS', KEYS[3]) == 1
            if r[2] ~= ARGV[2] and not retry and not previous then return {-2} end
            local seen = tonumber(ARGV[3])
            local last = tonumber(r[4])
            local dropped = tonumber(r[5])
            local bytes = tonumber(r[6])
            if seen > last then return {-3, last} end
            if seen < dropped then return {-4, dropped} end
            for i = 1, seen - dropped do
              local out = redis.call('LPOP', KEYS[2])
              bytes = bytes - string.len(out)
            end
            redis.call('HSET', KEYS[1], 'gw', ARGV[5], 'hash', ARGV[6], 'dropped', seen, 'bytes', bytes)
            if not retry then
              redis.call('HSET', KEYS[1], 'prev', ARGV[2])
              redis.call('DEL', KEYS[3])
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[7])
            redis.call('PEXPIRE', KEYS[2], ARGV[7])
            redis.call('PEXPIRE', KEYS[4], ARGV[7])
            return {last, redis.call('LRANGE', KEYS[2], 0, -1), r[3]}
            """);
    private static final RedisScript END_ORPHAN = new RedisScript("gw-end-orphan", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'gw')
            if r[1] and (r[1] ~= ARGV[1] or r[2] ~= ARGV[2]) then return 0 end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
            return 1
            """);
    private static final RedisScript ACCEPT_PREVIOUS = new RedisScript("gw-accept-previous", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'gw', 'prev')
            if not r[1] or r[1] ~= ARGV[1] or r[2] ~= ARGV[2] or not r[3] then return 0 end
            redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
            return 1
            """);
    /** How long a gateway's index outlives its last refresh: long enough for a survivor to sweep it. */
    private static final Duration INDEX_TTL = Duration.ofHours(1);
    private static final RedisScript TOUCH = new RedisScript("gw-touch", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'gw')
            if not r[1] then return -1 end
            if r[1] ~= ARGV[1] or r[2] ~= ARGV[2] then return 0 end
            redis.call('PEXPIRE', KEYS[1], ARGV[3])
            redis.call('PEXPIRE', KEYS[2], ARGV[3])
            redis.call('PEXPIRE', KEYS[4], ARGV[3])
            return 1
            """);
    private static final RedisScript END = new RedisScript("gw-end", """
            local r = redis.call('HMGET', KEYS[1], 'sid', 'gw')
            if not r[1] or r[1] ~= ARGV[1] or r[2] ~= ARGV[2] then return 0 end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
            return 1
            """);

    private final RedisConnector redis;
    private final StatefulConnection<String, byte[]> connection;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** At most {@link CommandQueue#DEFAULT_MAX_IN_FLIGHT} commands in flight; the rest of a burst waits here. */
    private final CommandQueue queue = new CommandQueue("the gateway session store");

    /**
     * A store on {@code redis} (borrowed: never closed here), with a connection of its own.
     *
     * @throws BraidException UNAVAILABLE when its connection cannot be made
     */
    public RedisGatewaySessions(RedisConnector redis) {
        if (redis == null) {
            throw new IllegalArgumentException("redis must not be null");
        }
        this.redis = redis;
        try {
            this.connection = redis.newBinaryConnection();
        } catch (RuntimeException e) {
            throw RedisErrors.toBraid("gateway session store cannot connect to " + redis.description(), e);
        }
        this.commands = RedisConnector.binaryCommands(connection);
    }

    static String recordKey(String token) {
        return "braid:{gw:" + token + "}:s";
    }

    static String logKey(String token) {
        return "braid:{gw:" + token + "}:log";
    }

    /** Exists (for its PEXPIRE) while the record's previous secret is accepted again (see {@link #takeOver}). */
    static String previousKey(String token) {
        return "braid:{gw:" + token + "}:prev";
    }

    static String indexKey(String gateway) {
        return "braid:{gwidx:" + gateway + "}";
    }

    private static byte[] member(String token, String sessionId) {
        return utf8(sessionId + " " + token);
    }

    /** The ids of the session's last pushes that had one, to their seq (see {@link GatewaySessionStore#append}). */
    static String pushIdsKey(String token) {
        return "braid:{gw:" + token + "}:ids";
    }

    private static String[] keys(String token) {
        return new String[] {recordKey(token), logKey(token), previousKey(token), pushIdsKey(token)};
    }

    @Override
    public CompletableFuture<Void> open(String token, String sessionId, byte[] secretHash, String gateway,
                                        Duration ttl) {
        return this.<Long>run("open", token, () -> eval(OPEN, ScriptOutputType.INTEGER, token, utf8(sessionId),
                secretHash.clone(), utf8(gateway), millis(ttl))).thenCompose(opened -> index(gateway, token, sessionId));
    }

    /** SADD and PEXPIRE sent together: one round trip (they go out in this order, on one key). */
    private CompletableFuture<Void> index(String gateway, String token, String sessionId) {
        CompletableFuture<Long> added = this.run("index", token, () -> commands.sadd(indexKey(gateway),
                member(token, sessionId)).toCompletableFuture());
        CompletableFuture<Boolean> expiring = this.run("index", token, () -> commands.pexpire(indexKey(gateway),
                INDEX_TTL.toMillis()).toCompletableFuture());
        return added.thenCombine(expiring, (one, two) -> null);
    }

    @Override
    public CompletableFuture<Appended> append(String token, String sessionId, String gateway, String pushId,
                                              byte[] payload, Bounds bounds, Duration ttl) {
        // Lettuce encodes the arguments later, on its event loop: copy now.
        byte[] bytes = payload.clone();
        return this.<List<Object>>run("append a push to", token, () -> eval(APPEND, ScriptOutputType.MULTI, token,
                utf8(sessionId), utf8(gateway), bytes, utf8(Integer.toString(bounds.maxPushes())),
                utf8(Long.toString(bounds.maxBytes())), millis(ttl), utf8(pushId == null ? "" : pushId),
                utf8(Integer.toString(bounds.maxPushIds()))))
                .thenApply(reply -> {
                    long seq = (Long) reply.get(0);
                    if (seq == -1L) {
                        throw new BraidException(Code.NOT_FOUND, "session " + sessionId + " of token " + token
                                + " has no record (ended, expired or replaced)");
                    }
                    if (seq == -2L) {
                        throw new BraidException(Code.FAILED_PRECONDITION, "session " + sessionId + " of token " + token
                                + " was taken over by another gateway");
                    }
                    return new Appended(seq, (Long) reply.get(1) == 1L);
                });
    }

    /** A record whose hash is already {@code newSecretHash} is taken over again: the same claimant retrying. */
    @Override
    public CompletableFuture<Replay> takeOver(String token, String sessionId, byte[] presentedHash, long seen,
                                              String expectedGateway, String newGateway, byte[] newSecretHash,
                                              Duration ttl) {
        return this.<List<Object>>run("take over the session of", token, () -> eval(TAKE_OVER,
                ScriptOutputType.MULTI, token, utf8(sessionId), presentedHash.clone(), utf8(Long.toString(seen)),
                utf8(expectedGateway == null ? "" : expectedGateway), utf8(newGateway), newSecretHash.clone(),
                millis(ttl))).thenApply(reply -> {
                    long first = (Long) reply.get(0);
                    if (first == -1L) {
                        throw new BraidException(Code.NOT_FOUND, "session " + sessionId + " of token " + token
                                + " cannot be resumed: it ended (grace over, logged out) or a later login or resume"
                                + " replaced it; log in afresh");
                    }
                    if (first == -2L) {
                        throw new BraidException(Code.UNAUTHENTICATED, "wrong resume token for session " + sessionId
                                + "; log in afresh");
                    }
                    if (first == -3L) {
                        throw new BraidException(Code.INVALID_ARGUMENT, "last_push_seq " + seen + " is beyond the"
                                + " session's last push " + reply.get(1));
                    }
                    if (first == -4L) {
                        throw new BraidException(Code.RESOURCE_EXHAUSTED, "pushes " + (seen + 1) + ".."
                                + reply.get(1) + " are no longer in the replay buffer (bounds replayMaxPushes,"
                                + " replayMaxBytes): the session cannot be resumed exactly; log in afresh");
                    }
                    @SuppressWarnings("unchecked")
                    List<Object> payloads = (List<Object>) reply.get(1);
                    List<Push> pushes = new ArrayList<>(payloads.size());
                    long seq = seen;
                    for (Object payload : payloads) {
                        pushes.add(new Push(++seq, (byte[]) payload));
                    }
                    String previous = new String((byte[]) reply.get(2), StandardCharsets.UTF_8);
                    Replay replay = new Replay(first, pushes);
                    if (previous.equals(newGateway)) {
                        return CompletableFuture.completedFuture(replay);
                    }
                    // Two keys of their own, sent together; the index is best effort.
                    return CompletableFuture.allOf(unindex(token, sessionId, previous), index(newGateway, token,
                            sessionId)).handle((ignored, failure) -> replay);
                }).thenCompose(next -> next);
    }

    @Override
    public CompletableFuture<Boolean> acceptPreviousSecret(String token, String sessionId, String gateway,
                                                           Duration window) {
        return this.<Long>run("accept the previous secret of", token, () -> eval(ACCEPT_PREVIOUS,
                ScriptOutputType.INTEGER, token, utf8(sessionId), utf8(gateway), millis(window)))
                .thenApply(accepted -> accepted == 1L);
    }

    @Override
    public CompletableFuture<List<Held>> touch(Collection<Held> sessions, String gateway, Duration ttl) {
        byte[] node = utf8(gateway);
        byte[] expiry = millis(ttl);
        List<Held> held = List.copyOf(sessions);
        List<CompletableFuture<Long>> sent = new ArrayList<>(held.size() + 1);
        for (Held session : held) {
            sent.add(run("refresh", session.token(), () -> eval(TOUCH, ScriptOutputType.INTEGER, session.token(),
                    utf8(session.sessionId()), node, expiry)));
        }
        sent.add(run("refresh the index of", gateway, () -> commands.pexpire(indexKey(gateway), INDEX_TTL.toMillis())
                .toCompletableFuture().thenApply(ignored -> 1L)));
        return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Held> lost = new ArrayList<>();
            for (int i = 0; i < held.size(); i++) {
                if (sent.get(i).join() == -1L) {
                    lost.add(held.get(i));
                }
            }
            return lost;
        });
    }

    @Override
    public CompletableFuture<Boolean> end(String token, String sessionId, String gateway) {
        return this.<Long>run("end the session of", token, () -> eval(END, ScriptOutputType.INTEGER, token,
                utf8(sessionId), utf8(gateway))).thenCompose(removed -> removed != 1L
                ? CompletableFuture.completedFuture(false)
                : unindex(token, sessionId, gateway).handle((ignored, failure) -> true));
    }

    @Override
    public CompletableFuture<List<Held>> heldBy(String gateway) {
        return this.<java.util.Set<byte[]>>run("list the sessions of gateway " + gateway + ", any", "",
                () -> commands.smembers(indexKey(gateway)).toCompletableFuture()).thenApply(members -> {
                    List<Held> held = new ArrayList<>(members.size());
                    for (byte[] member : members) {
                        String text = new String(member, StandardCharsets.UTF_8);
                        int space = text.indexOf(' ');
                        if (space > 0) {
                            held.add(new Held(text.substring(space + 1), text.substring(0, space)));
                        }
                    }
                    return held;
                });
    }

    @Override
    public CompletableFuture<Void> unindex(String token, String sessionId, String gateway) {
        return this.<Long>run("unindex", token, () -> commands.srem(indexKey(gateway), member(token, sessionId))
                .toCompletableFuture()).thenApply(ignored -> null);
    }

    /**
     * Claims the index entry (SREM: one caller gets it), then ends the record. When the end fails
     * (on a Cluster: the record's master unreachable, failing over, or not yet in the client's slot
     * map), the entry is put back, so that asking again (this caller or another sweeper) can claim
     * and end it: the end script is a no-op success on a record already gone, so a claim whose end
     * ran but whose answer was lost still ends once.
     */
    @Override
    public CompletableFuture<Boolean> endOrphan(String token, String sessionId, String gateway) {
        return this.<Long>run("claim the orphan session of", token, () -> commands.srem(indexKey(gateway),
                member(token, sessionId)).toCompletableFuture()).thenCompose(claimed -> claimed != 1L
                ? CompletableFuture.completedFuture(false)
                : this.<Long>run("end the orphan session of", token, () -> eval(END_ORPHAN,
                        ScriptOutputType.INTEGER, token, utf8(sessionId), utf8(gateway)))
                        .thenApply(ended -> ended == 1L)
                        .exceptionallyCompose(failure -> this.<Long>run("give back the claim on the orphan session of",
                                token, () -> commands.sadd(indexKey(gateway), member(token, sessionId))
                                        .toCompletableFuture())
                                .handle((givenBack, ignored) -> {
                                    throw failure instanceof RuntimeException e ? e : new CompletionException(failure);
                                })));
    }

    private <T> CompletableFuture<T> eval(RedisScript script, ScriptOutputType type, String token, byte[]... args) {
        return script.evalOn(commands, type, keys(token), args);
    }

    /**
     * Sends what {@code command} sends through {@link #queue}: after every command called before
     * it, once fewer than the bound are in flight, unless closed; a failure becomes a
     * BraidException (UNAVAILABLE when unreachable).
     */
    private <T> CompletableFuture<T> run(String what, String token, Supplier<CompletableFuture<T>> command) {
        return queue.run("gateway session store cannot " + what + " token " + token, command);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] millis(Duration ttl) {
        return utf8(Long.toString(Math.max(1, ttl.toMillis())));
    }

    /** Closes this store's connection (idempotent); the connector stays open. */
    @Override
    public void close() {
        queue.close(); // fails what waits; idempotent
        if (closed.compareAndSet(false, true)) {
            connection.close();
        }
    }

    @Override
    public String toString() {
        return "RedisGatewaySessions{" + redis.description() + "}";
    }
}
