package io.braid.discover;

import java.util.regex.Pattern;

/** Service names and node ids become parts of Redis keys and hash tags, so their characters are limited. */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]{1,128}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

    private Names() {
    }

    static String service(String service) {
        if (service == null || !NAME.matcher(service).matches()) {
            throw new IllegalArgumentException("service name must be 1..128 of [A-Za-z0-9._-], was '" + service + "'");
        }
        return service;
    }

    static String nodeId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("node id must be 1..128 of [A-Za-z0-9._:-], was '" + id + "'");
        }
        return id;
    }
}
