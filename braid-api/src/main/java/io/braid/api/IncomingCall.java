package io.braid.api;

import java.util.Map;

/**
 * A call as server interceptors see it: its context, plus metadata to change before the handler
 * sees it and metadata to send back with the answer.
 */
public interface IncomingCall extends CallContext {
    /** Sets a metadata entry the handler (and later interceptors) will see. */
    void putMetadata(String key, String value);

    /** Metadata sent back with the answer; changes made before the answer is sent are sent. */
    Map<String, String> responseMetadata();
}
