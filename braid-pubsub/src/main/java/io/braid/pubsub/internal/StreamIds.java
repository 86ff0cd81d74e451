package io.braid.pubsub.internal;

/** Redis stream ids ({@code millis-sequence}) compared and stepped as numbers, not strings. */
final class StreamIds {
    private StreamIds() {
    }

    static int compare(String a, String b) {
        long[] x = parse(a);
        long[] y = parse(b);
        int byTime = Long.compareUnsigned(x[0], y[0]);
        return byTime != 0 ? byTime : Long.compareUnsigned(x[1], y[1]);
    }

    /** The smallest id after {@code id}. */
    static String next(String id) {
        long[] x = parse(id);
        return x[1] == -1L ? (x[0] + 1) + "-0" : x[0] + "-" + (x[1] + 1);
    }

    private static long[] parse(String id) {
        int dash = id.indexOf('-');
        if (dash < 0) {
            return new long[] {Long.parseUnsignedLong(id), 0};
        }
        return new long[] {Long.parseUnsignedLong(id.substring(0, dash)), Long.parseUnsignedLong(id.substring(dash + 1))};
    }
}
