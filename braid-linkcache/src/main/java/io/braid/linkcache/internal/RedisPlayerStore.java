package io.braid.linkcache.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.PlayerStore;
import io.braid.redis.internal.CommandQueue;
import io.braid.redis.RedisConnector;
import io.braid.redis.internal.RedisErrors;
import io.braid.redis.internal.RedisScript;
import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Player snapshots on Redis (standalone, Sentinel or Cluster), fenced by the link epochs of
 * {@link RedisLinkCache} on the same Redis.
 *
 * <p>Keys: {@code braid:{ls:K}:st:T} HASH service to the snapshot's bytes, and {@code epoch\0}service
 * to the epoch it was saved under, where K is the token's shard as the link cache computes it
 * ({@code (token.hashCode() & 0x7fffffff) % shards}, with the same {@code shards}). So a token's
 * snapshots share the hash tag, and the Cluster slot, of its links (the field {@code token\0service}
 * of the bucket {@code braid:{ls:K}:b:J}, valued {@code owner\0epoch}: the same {@code bucketsPerShard}
 * too), and a save is one Lua script ({@code store-save.lua}) that reads the link's epoch, reads the
 * saved epoch and writes, atomically: no change of owner lands between the check and the write.
 * A delete is one script too; a load is one {@code HMGET} (the bytes and their epoch together).
 * Epochs are compared as decimal text, exactly for every long. Snapshot bytes go to Redis as they
 * are, on a binary connection of this store's own (keys stay strings).
 *
 * <p>What is guaranteed, and what not:
 * <ul>
 *   <li>While Redis keeps its data, a save under an epoch below the token's link's (a moved, relinked
 *       or re-claimed token) or below the saved snapshot's is refused, so a resumed old owner never
 *       overwrites a newer owner's state.</li>
 *   <li>A snapshot is as durable as Redis makes it: without persistence a restart loses every
 *       snapshot (a load then answers empty, and the player activates fresh); with asynchronous
 *       replication a failover can lose the last saves acknowledged by the old master, so a load can
 *       answer an older snapshot. Run Redis with AOF where player state matters.</li>
 *   <li>After Redis lost its data the link epochs start again above the lost ones (see the link
 *       cache), so the fence still holds against owners from before the loss, as far as the link
 *       cache's own guarantee goes (not across a data loss with the Redis clock gone back).</li>
 * </ul>
 *
 * <p>Failures: {@link Code#UNAVAILABLE} when Redis cannot be reached (after the connector's command
 * timeout), or once this store is closed; {@link Code#INTERNAL} for anything else Redis answers.
 * Thread-safe. {@link #close()} closes this store's own connection, never the borrowed connector.
 */
public final class RedisPlayerStore implements PlayerStore, AutoCloseable {
    /** The link cache's default number of shards ({@link RedisLinkCache.Builder#shards}), part of the key layout. */
    public static final int DEFAULT_SHARDS = LinkKeys.DEFAULT_SHARDS;
    /** The link cache's default buckets per shard ({@link RedisLinkCache.Builder#bucketsPerShard}), part of the layout. */
    public static final int DEFAULT_BUCKETS_PER_SHARD = LinkKeys.DEFAULT_BUCKETS_PER_SHARD;
    /** The field beside a service's snapshot that holds the epoch it was saved under: this, then the service. */
    private static final String EPOCH_FIELD_PREFIX = "epoch" + LinkKeys.SEPARATOR;
    /** What every store script starts with: the epoch field's name and the exact comparison (store-epochs.lua). */
    private static final String EPOCHS = RedisScript.resource(RedisPlayerStore.class, "store-epochs.lua").source();
    private static final RedisScript SAVE = script("store-save.lua");
    private static final RedisScript DELETE = script("store-delete.lua");

    private final RedisConnector redis;
    private final LinkKeys keys;
    private final StatefulConnection<String, byte[]> connection;
    private final RedisClusterAsyncCommands<String, byte[]> commands;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** At most {@link CommandQueue#DEFAULT_MAX_IN_FLIGHT} commands in flight; the rest of a burst waits in order. */
    private final CommandQueue queue = new CommandQueue("the player store");

    /**
     * A store on {@code redis} (borrowed: never closed here), keyed by {@code shards} as the link
     * cache on the same Redis is, with the default buckets per shard.
     *
     * @throws IllegalArgumentException unless {@code shards} is in 1..16384
     * @throws BraidException           {@link Code#UNAVAILABLE} when its connection cannot be made
     */
    public RedisPlayerStore(RedisConnector redis, int shards) {
        this(redis, shards, DEFAULT_BUCKETS_PER_SHARD);
    }

    /**
     * A store on {@code redis} (borrowed: never closed here), keyed by {@code shards} and
     * {@code bucketsPerShard} as the link cache on the same Redis is (every node of a cluster uses
     * the same numbers): a save reads the link's epoch in its bucket.
     *
     * @throws IllegalArgumentException unless {@code shards} is in 1..16384 and {@code bucketsPerShard} in 1..65536
     * @throws BraidException           {@link Code#UNAVAILABLE} when its connection cannot be made
     */
    public RedisPlayerStore(RedisConnector redis, int shards, int bucketsPerShard) {
        if (redis == null) {
            throw new IllegalArgumentException("redis must not be null");
        }
        this.keys = new LinkKeys(shards, bucketsPerShard);
        this.redis = redis;
        try {
            this.connection = redis.newBinaryConnection();
        } catch (RuntimeException e) {
            throw RedisErrors.toBraid("player store cannot connect to " + redis.description(), e);
        }
        this.commands = RedisConnector.binaryCommands(connection);
    }

    @Override
    public CompletableFuture<Optional<Saved>> loadAsync(String service, String token) {
        String bad = PlayerStoreArguments.load(service, token);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        String epochField = EPOCH_FIELD_PREFIX + service;
        return run("load", token, () -> commands.hmget(storeKey(token), service, epochField).toCompletableFuture())
                .thenApply(reply -> saved(reply, service, token));
    }

    /** The snapshot an HMGET of (service, epoch field) answered; a snapshot without an epoch field is epoch 0. */
    private static Optional<Saved> saved(List<KeyValue<String, byte[]>> reply, String service, String token) {
        KeyValue<String, byte[]> snapshot = reply.get(0);
        if (!snapshot.hasValue()) {
            return Optional.empty();
        }
        KeyValue<String, byte[]> epoch = reply.get(1);
        if (!epoch.hasValue()) {
            return Optional.of(new Saved(0, snapshot.getValue()));
        }
        String text = new String(epoch.getValue(), StandardCharsets.US_ASCII);
        try {
            return Optional.of(new Saved(Long.parseLong(text), snapshot.getValue()));
        } catch (IllegalArgumentException e) { // not a number, or negative: written behind braid's back
            throw new BraidException(Code.INTERNAL, "the snapshot of token " + token + " in " + service
                    + " has a malformed epoch '" + text + "'", e);
        }
    }

    @Override
    public CompletableFuture<Boolean> saveAsync(String service, String token, long epoch, byte[] snapshot) {
        String bad = PlayerStoreArguments.save(service, token, epoch, snapshot);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        // Lettuce encodes the arguments when it writes them, later, on its event loop: copy now.
        byte[] bytes = snapshot.clone();
        String[] scriptKeys = {keys.bucketKey(token), storeKey(token)};
        byte[] linkField = utf8(LinkKeys.field(token, service));
        return run("save", token, () -> this.<Long>eval(SAVE, scriptKeys, utf8(service), utf8(Long.toString(epoch)), bytes,
                        linkField))
                .thenApply(written -> written == 1L);
    }

    @Override
    public CompletableFuture<Boolean> deleteAsync(String service, String token, long epoch) {
        String bad = PlayerStoreArguments.delete(service, token, epoch);
        if (bad != null) {
            return LinkArguments.refused(bad);
        }
        String[] keys = {storeKey(token)};
        return run("delete", token, () -> this.<Long>eval(DELETE, keys, utf8(service), utf8(Long.toString(epoch))))
                .thenApply(deleted -> deleted == 1L);
    }

    /**
     * Sends what {@code command} sends once the queue lets it (a burst waits its turn rather than
     * timing out), unless closed; a failure, thrown or in the future, becomes a
     * {@link BraidException} (UNAVAILABLE when Redis cannot be reached).
     */
    private <T> CompletableFuture<T> run(String what, String token,
                                         java.util.function.Supplier<CompletableFuture<T>> command) {
        return queue.run("player store cannot " + what + " the snapshot of token " + token, command);
    }

    /** Runs a script by its SHA-1 on the binary connection, sending its source once when Redis does not know it. */
    private <T> CompletableFuture<T> eval(RedisScript script, String[] keys, byte[]... args) {
        return script.evalOn(commands, ScriptOutputType.INTEGER, keys, args);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The token's snapshots, in the slot of its links. */
    private String storeKey(String token) {
        return keys.storeKey(token);
    }

    /** A store script: store-epochs.lua, then the script itself (one source, one SHA). */
    private static RedisScript script(String resource) {
        return new RedisScript(resource,
                EPOCHS + "\n" + RedisScript.resource(RedisPlayerStore.class, resource).source());
    }

    /** Closes this store's connection (idempotent); the connector stays open. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            queue.close(); // what waits fails UNAVAILABLE; what comes later is refused
            connection.close();
        }
    }

    @Override
    public String toString() {
        return "RedisPlayerStore{" + redis.description() + "}";
    }
}
