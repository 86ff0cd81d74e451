package io.braid.redis.internal;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A Lua script run by its SHA-1 ({@code EVALSHA}); {@link io.braid.redis.RedisConnector#eval} sends the source
 * once when Redis answers NOSCRIPT (first use, a restart, a failover to a node that never saw it).
 * Multi-key changes that must agree are one script, on keys of one Cluster slot.
 */
public final class RedisScript {
    private final String name;
    private final String source;
    private final String sha;

    public RedisScript(String name, String source) {
        this.name = Objects.requireNonNull(name, "name");
        this.source = Objects.requireNonNull(source, "source");
        this.sha = sha1(source);
    }

    /** Loads a script from a classpath resource next to {@code owner}. */
    public static RedisScript resource(Class<?> owner, String resource) {
        try (var in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("script resource not found: " + resource + " next to " + owner.getName());
            }
            return new RedisScript(resource, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read script " + resource, e);
        }
    }

    public String name() {
        return name;
    }

    public String source() {
        return source;
    }

    public String sha() {
        return sha;
    }

    /**
     * Runs this script on {@code node} by its SHA-1, sending its source once when Redis answers
     * NOSCRIPT; the future fails with Lettuce's exception otherwise (callers map it with
     * {@link RedisErrors#toBraid}). Any codec: String or byte[] values.
     */
    @SafeVarargs
    public final <K, V, T> CompletableFuture<T> evalOn(RedisClusterAsyncCommands<K, V> node, ScriptOutputType type,
                                                       K[] keys, V... args) {
        CompletableFuture<T> result = new CompletableFuture<>();
        node.<T>evalsha(sha, type, keys, args).whenComplete((value, failure) -> {
            if (failure == null) {
                result.complete(value);
            } else if (RedisErrors.is(failure, RedisErrors.NOSCRIPT)) {
                node.<T>eval(source, type, keys, args).whenComplete((again, error) -> {
                    if (error == null) {
                        result.complete(again);
                    } else {
                        result.completeExceptionally(error);
                    }
                });
            } else {
                result.completeExceptionally(failure);
            }
        });
        return result;
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every JVM", e);
        }
    }

    @Override
    public String toString() {
        return "RedisScript{" + name + " " + sha + "}";
    }
}
