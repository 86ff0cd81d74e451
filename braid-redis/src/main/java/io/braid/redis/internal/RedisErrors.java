package io.braid.redis.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Redis error replies recognised by their type prefix, in this one place (never by scattered
 * string matches), and the translation of Redis failures to braid's codes.
 */
public final class RedisErrors {
    /** The script cache does not hold the script (after a restart or SCRIPT FLUSH). */
    public static final String NOSCRIPT = "NOSCRIPT";
    /** XGROUP CREATE of a group that exists. */
    public static final String BUSYGROUP = "BUSYGROUP";
    /** XREADGROUP / XACK on a group or stream that does not exist. */
    public static final String NOGROUP = "NOGROUP";
    /** The server is loading its data set after a restart. */
    public static final String LOADING = "LOADING";
    /** A script is running too long. */
    public static final String BUSY = "BUSY";
    /** Authentication is required or failed. */
    public static final String NOAUTH = "NOAUTH";
    public static final String WRONGPASS = "WRONGPASS";
    /** A replica that may not take writes. */
    public static final String READONLY = "READONLY";
    /** Cluster is down or a slot is not served. */
    public static final String CLUSTERDOWN = "CLUSTERDOWN";

    private RedisErrors() {
    }

    /** The error reply's type: its first word, e.g. {@code NOSCRIPT}; null when it is no error reply. */
    public static String type(Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof RedisCommandExecutionException && t.getMessage() != null) {
            String message = t.getMessage().strip();
            int space = message.indexOf(' ');
            return space < 0 ? message : message.substring(0, space);
        }
        return null;
    }

    public static boolean is(Throwable failure, String type) {
        return type.equals(type(failure));
    }

    /** True when the failure says Redis could not be reached or did not answer in time. */
    public static boolean isUnreachable(Throwable failure) {
        Throwable t = unwrap(failure);
        return t instanceof RedisConnectionException || t instanceof RedisCommandTimeoutException
                || (t instanceof RedisException && !(t instanceof RedisCommandExecutionException))
                || is(t, LOADING) || is(t, CLUSTERDOWN) || is(t, READONLY)
                || t instanceof java.io.IOException;
    }

    /** braid's view of a Redis failure: UNAVAILABLE when Redis is unreachable, INTERNAL otherwise. */
    public static BraidException toBraid(String what, Throwable failure) {
        Throwable t = unwrap(failure);
        if (t instanceof BraidException braid) {
            return braid;
        }
        Code code = isUnreachable(t) ? Code.UNAVAILABLE : Code.INTERNAL;
        return new BraidException(code, what + ": " + t.getMessage(), t);
    }

    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
