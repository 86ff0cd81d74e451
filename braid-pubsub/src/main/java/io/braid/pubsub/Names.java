package io.braid.pubsub;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks of what users hand to a topic. Topic and channel names become parts of Redis keys and hash
 * tags, so their characters are limited (no braces, no spaces); a message's body and headers have
 * size limits checked before anything is sent.
 */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-:]{1,200}");
    static final String RESERVED_HEADER_PREFIX = "braid-";
    /** The most a message's headers may hold: keys and values, UTF-8. */
    static final int MAX_HEADER_BYTES = 64 * 1024;

    private Names() {
    }

    static String topic(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("topic name must be 1..200 of [A-Za-z0-9._:-], was '" + name + "'");
        }
        return name;
    }

    static String channel(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("channel name must be 1..200 of [A-Za-z0-9._:-], was '" + name + "'");
        }
        return name;
    }

    static void headers(Map<String, String> headers) {
        for (Map.Entry<String, String> header : headers.entrySet()) {
            if (header.getKey() == null || header.getKey().isEmpty() || header.getValue() == null) {
                throw new IllegalArgumentException("header keys must be non-empty and values non-null: " + header);
            }
            if (header.getKey().regionMatches(true, 0, RESERVED_HEADER_PREFIX, 0, RESERVED_HEADER_PREFIX.length())) {
                throw new IllegalArgumentException("headers starting with '" + RESERVED_HEADER_PREFIX
                        + "' are reserved: " + header.getKey());
            }
        }
    }

    /**
     * The refusal of a message too large to publish, or null: RESOURCE_EXHAUSTED naming the limit,
     * for a body over {@code maxBodyBytes} or headers over {@link #MAX_HEADER_BYTES}.
     */
    static BraidException tooLarge(byte[] body, Map<String, String> headers, int maxBodyBytes) {
        if (body.length > maxBodyBytes) {
            return new BraidException(Code.RESOURCE_EXHAUSTED, "message body of " + body.length
                    + " bytes exceeds the limit of " + maxBodyBytes + " bytes (maxBodyBytes)");
        }
        long headerBytes = 0;
        for (Map.Entry<String, String> header : headers.entrySet()) {
            headerBytes += utf8Length(header.getKey()) + utf8Length(header.getValue());
        }
        if (headerBytes > MAX_HEADER_BYTES) {
            return new BraidException(Code.RESOURCE_EXHAUSTED, "message headers of " + headerBytes
                    + " bytes exceed the limit of " + MAX_HEADER_BYTES + " bytes (keys and values, UTF-8)");
        }
        return null;
    }

    private static long utf8Length(String text) {
        // Exact for ASCII and cheap; only text with other characters is encoded to be measured.
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                return text.getBytes(StandardCharsets.UTF_8).length;
            }
        }
        return text.length();
    }
}
