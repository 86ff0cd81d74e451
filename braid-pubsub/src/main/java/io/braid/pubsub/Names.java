package io.braid.pubsub;

import java.util.Map;
import java.util.regex.Pattern;

/** Topic and channel names become parts of Redis keys and hash tags, so their characters are limited. */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-:]{1,200}");
    static final String RESERVED_HEADER_PREFIX = "braid-";

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
}
