package io.braid.pubsub.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks of what users hand to a pubsub, the same for every backend. Topic and channel names
 * become parts of Redis keys and hash tags, so their characters are limited (no braces, no
 * spaces); a message's body and headers have size limits checked before anything is sent.
 *
 * <p>The project's error rule: a call that returns a future reports a bad argument through it
 * ({@link #refusal}, {@link #limitRefusal}); a synchronous call throws. Either way the error is a
 * {@link BraidException} with {@link Code#INVALID_ARGUMENT} whose message names the argument.
 */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-:]{1,200}");
    static final String RESERVED_HEADER_PREFIX = "braid-";
    /** The most a message's headers may hold: keys and values, UTF-8. */
    static final int MAX_HEADER_BYTES = 64 * 1024;

    private Names() {
    }

    /** {@code name} if it is a valid topic name; else throws INVALID_ARGUMENT naming it. */
    static String topic(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw invalid("topic name must be 1..200 of [A-Za-z0-9._:-], was '" + name + "'");
        }
        return name;
    }

    /** {@code name} if it is a valid channel name; else throws INVALID_ARGUMENT naming it. */
    static String channel(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw invalid("channel name must be 1..200 of [A-Za-z0-9._:-], was '" + name + "'");
        }
        return name;
    }

    /** {@code value} unless it is null; else throws INVALID_ARGUMENT naming {@code argument}. */
    static <T> T required(T value, String argument) {
        if (value == null) {
            throw invalid(argument + " must not be null");
        }
        return value;
    }

    /**
     * Why a message cannot be published, or null when it can: the one check of every backend's
     * {@code publish}, whose future fails with it. INVALID_ARGUMENT naming the argument for a null
     * body or headers, an empty header key, a null header value or a reserved ({@code braid-})
     * header; RESOURCE_EXHAUSTED naming the limit for a body over {@code maxBodyBytes} or headers
     * over {@link #MAX_HEADER_BYTES}.
     */
    static BraidException refusal(byte[] body, Map<String, String> headers, int maxBodyBytes) {
        if (body == null) {
            return invalid("body must not be null");
        }
        if (headers == null) {
            return invalid("headers must not be null");
        }
        if (headers.isEmpty() && body.length <= maxBodyBytes) {
            return null; // the usual publish: no iterator made for no headers
        }
        long headerBytes = 0;
        for (Map.Entry<String, String> header : headers.entrySet()) {
            if (header.getKey() == null || header.getKey().isEmpty() || header.getValue() == null) {
                return invalid("headers: keys must be non-empty and values non-null, was " + header);
            }
            if (header.getKey().regionMatches(true, 0, RESERVED_HEADER_PREFIX, 0, RESERVED_HEADER_PREFIX.length())) {
                return invalid("headers starting with '" + RESERVED_HEADER_PREFIX + "' are reserved: " + header.getKey());
            }
            headerBytes += utf8Length(header.getKey()) + utf8Length(header.getValue());
        }
        if (body.length > maxBodyBytes) {
            return new BraidException(Code.RESOURCE_EXHAUSTED, "message body of " + body.length
                    + " bytes exceeds the limit of " + maxBodyBytes + " bytes (maxBodyBytes)");
        }
        if (headerBytes > MAX_HEADER_BYTES) {
            return new BraidException(Code.RESOURCE_EXHAUSTED, "message headers of " + headerBytes
                    + " bytes exceed the limit of " + MAX_HEADER_BYTES + " bytes (keys and values, UTF-8)");
        }
        return null;
    }

    /**
     * Why {@code limit} (of {@code deadLetters} or {@code replayDeadLetters}) is refused, or null
     * when it is in 1..100,000.
     */
    static BraidException limitRefusal(int limit) {
        if (limit < 1 || limit > 100_000) {
            return invalid("limit must be in 1..100000, was " + limit);
        }
        return null;
    }

    static BraidException invalid(String message) {
        return new BraidException(Code.INVALID_ARGUMENT, message);
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
