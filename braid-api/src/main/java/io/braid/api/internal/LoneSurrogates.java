package io.braid.api.internal;

/**
 * Makes JSON text that Gson wrote safe to encode as UTF-8. Gson copies a lone surrogate (half of a
 * character beyond the BMP, without its other half) into its output as it is; UTF-8 cannot carry
 * one, and {@code String.getBytes(UTF_8)} would silently write {@code '?'} instead. A lone
 * surrogate can only stand inside a JSON string, so writing it as a JSON escape (backslash, u, four
 * hex digits) keeps the text valid, and it reads back as the string that was written.
 */
public final class LoneSurrogates {
    private LoneSurrogates() {
    }

    /** {@code json} with every lone surrogate as an escape; the same instance when it has none. */
    public static String escape(String json) {
        StringBuilder out = null;
        int copied = 0;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (!Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < json.length() && Character.isLowSurrogate(json.charAt(i + 1))) {
                i++; // a whole character beyond the BMP: UTF-8 carries it as it is
                continue;
            }
            if (out == null) {
                out = new StringBuilder(json.length() + 16);
            }
            out.append(json, copied, i).append(String.format("\\u%04x", (int) c));
            copied = i + 1;
        }
        return out == null ? json : out.append(json, copied, json.length()).toString();
    }
}
