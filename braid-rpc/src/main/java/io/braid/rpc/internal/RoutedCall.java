package io.braid.rpc.internal;

import io.braid.api.Node;

/** What the client's routing needs of a call or a stream: where it may go, and how to start it there. */
interface RoutedCall {
    String service();

    String token();

    /** When the caller stops waiting, for the routing as much as for the answer. */
    io.braid.api.Deadline deadline();

    /** Whether an earlier attempt of this call went to {@code nodeId}. */
    boolean tried(String nodeId);

    int attempts();

    boolean isDone();

    boolean completeExceptionally(Throwable failure);

    /** Starts an attempt on {@code node} through {@code connection}. */
    void attempt(Node node, ClientConnection connection);
}
