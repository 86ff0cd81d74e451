package io.braid.linkcache.internal;

import io.braid.api.Link;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;

/**
 * The heap a near-cache entry costs, measured as braid-bench's scale section does: this JVM's used
 * heap after two full collections, before and after {@code n} entries (args[0]), over {@code n};
 * tokens of 16 characters made before the first reading (a gateway's sessions hold them), 10
 * owners whose id each reply decodes anew, every link with its own epoch, a TTL of an hour. Prints
 * {@code bytes-per-entry=<figure>}. Run in a JVM of its own with the serial collector (as the
 * bench), so that the figure is the objects', not a collector's regions: {@link NearCacheTest}.
 */
final class NearCacheFootprint {
    private NearCacheFootprint() {
    }

    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = String.format(Locale.ROOT, "player:%09d", i);
        }
        OwnerIds owners = new OwnerIds();
        NearCache cache = new NearCache(n, Duration.ofHours(1), System::nanoTime, owners);
        long before = usedHeapAfterGc();
        for (int i = 0; i < n; i++) {
            Link link = new Link(owners.canonical(new String("logic-" + (i % 10))), 1_000_000L + i);
            cache.merge(tokens[i], "logic", cache.entry(link),
                    (held, offered) -> offered.link().epoch() > held.link().epoch() ? offered : held);
        }
        long after = usedHeapAfterGc();
        long held = cache.size("logic");
        if (held != n || cache.get(tokens[0], "logic") == null) {
            throw new IllegalStateException("the cache holds " + held + " of " + n + " entries");
        }
        System.out.printf(Locale.ROOT, "bytes-per-entry=%.1f%n", (double) (after - before) / n);
    }

    private static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
