package io.braid.linkcache.internal;

/**
 * Where a token's links live in Redis, computed in Java for every script (Lua never hashes a
 * token), shared by {@link RedisLinkCache} and {@link RedisPlayerStore} so that both key a token
 * alike.
 *
 * <p>Shard K = {@code (token.hashCode() & 0x7fffffff) % shards}; bucket J = {@link #bucketHash} of
 * the token modulo {@code bucketsPerShard}, a hash of its own (FNV-1a over the token's chars, then
 * mixed), so that a shard's tokens spread over its buckets whatever their {@code hashCode}s share.
 * A link is the field {@code token NUL service} of the bucket hash {@code braid:{ls:K}:b:J}, valued
 * {@code owner NUL epoch}; every key of a shard carries its hash tag {@code {ls:K}}: one Cluster
 * slot. Both numbers are part of the layout: every node of a cluster must use the same. Public for
 * tests of other modules that read or write links behind the cache's back.
 */
public final class LinkKeys {
    /** Default of {@link RedisLinkCache.Builder#shards}. */
    public static final int DEFAULT_SHARDS = 64;
    static final int MAX_SHARDS = 16_384;
    /** Default of {@link RedisLinkCache.Builder#bucketsPerShard}: see the README ("Buckets"). */
    public static final int DEFAULT_BUCKETS_PER_SHARD = 1_024;
    static final int MAX_BUCKETS_PER_SHARD = 65_536;
    public static final char SEPARATOR = '\u0000';
    /** The layout of a cache and a store built with the defaults. */
    public static final LinkKeys DEFAULTS = new LinkKeys(DEFAULT_SHARDS, DEFAULT_BUCKETS_PER_SHARD);

    private final int shards;
    private final int buckets;

    public LinkKeys(int shards, int bucketsPerShard) {
        String bad = shards(shards);
        if (bad == null) {
            bad = bucketsPerShard(bucketsPerShard);
        }
        if (bad != null) {
            throw new IllegalArgumentException(bad);
        }
        this.shards = shards;
        this.buckets = bucketsPerShard;
    }

    /** What is wrong with a number of shards, or null. */
    static String shards(int shards) {
        return shards < 1 || shards > MAX_SHARDS ? "shards must be in 1.." + MAX_SHARDS + ", was " + shards : null;
    }

    /** What is wrong with a number of buckets per shard, or null. */
    static String bucketsPerShard(int buckets) {
        return buckets < 1 || buckets > MAX_BUCKETS_PER_SHARD
                ? "bucketsPerShard must be in 1.." + MAX_BUCKETS_PER_SHARD + ", was " + buckets : null;
    }

    int shards() {
        return shards;
    }

    int bucketsPerShard() {
        return buckets;
    }

    int shardOf(String token) {
        return (token.hashCode() & 0x7fffffff) % shards;
    }

    int bucketOf(String token) {
        return (bucketHash(token) & 0x7fffffff) % buckets;
    }

    /**
     * The token's bucket hash: FNV-1a over its chars (UTF-16 units), then MurmurHash3's finalizer,
     * independent of {@link String#hashCode} (which picks the shard). Fixed: part of the layout.
     */
    static int bucketHash(String token) {
        int h = 0x811c9dc5;
        for (int i = 0; i < token.length(); i++) {
            h = (h ^ token.charAt(i)) * 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    /** {@code braid:{ls:K}}: what every key of shard K starts with. */
    static String shardPrefix(int shard) {
        return "braid:{ls:" + shard + "}";
    }

    String shardPrefix(String token) {
        return shardPrefix(shardOf(token));
    }

    /** The bucket hash holding the token's links: {@code braid:{ls:K}:b:J}. */
    public String bucketKey(String token) {
        return shardPrefix(token) + ":b:" + bucketOf(token);
    }

    /** The field of the token's link in a service, in its bucket: token NUL service. */
    public static String field(String token, String service) {
        return token + SEPARATOR + service;
    }

    /** The shard's counts of links per owner: HASH node id to its links in the shard. */
    static String countKey(int shard) {
        return shardPrefix(shard) + ":count";
    }

    public String countKey(String token) {
        return countKey(shardOf(token));
    }

    /** The epoch counter of the token's shard. */
    public String epochKey(String token) {
        return shardPrefix(token) + ":epoch";
    }

    /** The token's snapshots (the player store), in the slot of its links: {@code braid:{ls:K}:st:T}. */
    public String storeKey(String token) {
        return shardPrefix(token) + ":st:" + token;
    }
}
