package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The open connections of one server, and what the server does to all of them at once: ask about
 * or end their token streams, and drain them at shutdown (GoAway, wait, close). Thread-safe; each
 * action on a connection runs on that connection's event loop.
 */
public final class ServerConnections {
    private static final String SHUTTING_DOWN = "server shutting down";

    private final Set<ServerConnectionHandler> open = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;

    /** A new connection; it leaves when its channel closes. One that joins during a drain gets GoAway at once. */
    void add(ServerConnectionHandler connection) {
        open.add(connection);
        connection.channel().closeFuture().addListener(f -> open.remove(connection));
        if (draining) {
            connection.goAway(SHUTTING_DOWN);
        }
    }

    /** Open connections right now. */
    public int count() {
        return open.size();
    }

    /** Ends the token streams a gate no longer admits ({@code all}: every token stream), on every connection. */
    public void fenceTokenStreams(boolean all) {
        for (ServerConnectionHandler connection : open) {
            connection.fenceTokenStreams(all);
        }
    }

    /** The tokens of the streams open now (each once); completes on an event loop. */
    public CompletableFuture<Set<String>> openStreamTokens() {
        Set<String> tokens = ConcurrentHashMap.newKeySet();
        CompletableFuture<?>[] each = open.stream().map(c -> c.collectStreamTokens(tokens))
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(each).thenApply(ignored -> tokens);
    }

    /** Ends the open streams of {@code token}, UNAVAILABLE with {@code why}; calls are not touched. */
    public void endTokenStreams(String token, String why) {
        BraidException reason = new BraidException(Code.UNAVAILABLE, why);
        for (ServerConnectionHandler connection : open) {
            connection.endTokenStreams(token, reason);
        }
    }

    /**
     * Sends GoAway on every connection (and on any that opens from now on), waits for the GoAways to
     * be written unless {@code mayWait} is false (the caller is on an event loop), and completes once
     * every connection has closed or {@code grace} has passed, after closing whatever is still open.
     */
    public CompletableFuture<Void> drain(Duration grace, boolean mayWait) {
        draining = true;
        List<CompletableFuture<Void>> closed = new ArrayList<>();
        List<io.netty.util.concurrent.Future<?>> announced = new ArrayList<>();
        for (ServerConnectionHandler connection : open) {
            CompletableFuture<Void> closedFuture = new CompletableFuture<>();
            connection.channel().closeFuture().addListener(f -> closedFuture.complete(null));
            closed.add(closedFuture);
            announced.add(connection.goAway(SHUTTING_DOWN));
        }
        if (mayWait) {
            for (io.netty.util.concurrent.Future<?> sent : announced) {
                sent.awaitUninterruptibly(1, TimeUnit.SECONDS);
            }
        }
        return CompletableFuture.allOf(closed.toArray(CompletableFuture[]::new))
                .completeOnTimeout(null, grace.toMillis(), TimeUnit.MILLISECONDS)
                .handle((ignored, failure) -> {
                    for (ServerConnectionHandler connection : open) {
                        connection.channel().close();
                    }
                    return null;
                });
    }
}
