package io.braid.discover.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.util.regex.Pattern;

/**
 * Service names and node ids become parts of Redis keys and hash tags, so their characters are
 * limited. A bad argument is {@code BraidException(INVALID_ARGUMENT)} naming it (the project's rule).
 */
final class Names {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._\\-]{1,128}");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

    private Names() {
    }

    static String service(String service) {
        if (service == null || !NAME.matcher(service).matches()) {
            throw invalid("service name must be 1..128 of [A-Za-z0-9._-], was '" + service + "'");
        }
        return service;
    }

    static String nodeId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw invalid("node id must be 1..128 of [A-Za-z0-9._:-], was '" + id + "'");
        }
        return id;
    }

    /** {@code value}, if not null. */
    static <T> T notNull(T value, String name) {
        if (value == null) {
            throw invalid(name + " must not be null");
        }
        return value;
    }

    static BraidException invalid(String message) {
        return new BraidException(Code.INVALID_ARGUMENT, message);
    }
}
