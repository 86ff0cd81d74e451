package io.braid.api;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.util.concurrent.CompletableFuture;

/**
 * The calling side of a node. Thread-safe; every method returns at once.
 *
 * <p>{@code target} is a service name. With an empty {@code token} the call is stateless and goes
 * to a random ACTIVE node of the service. With a token the call goes to the node that owns the
 * token (see {@link LinkCache}); a token without an owner gets one by smooth weighted round robin.
 *
 * <p>The future completes on an I/O thread: do not block in stages chained to it without an
 * executor of your own ({@code thenApplyAsync(fn, executor)}). It fails with a
 * {@link BraidException}: {@link Code#UNAVAILABLE} when no node can be reached (the request was
 * retried on another node only if it was provably never written, or the call is
 * {@linkplain CallOptions#withIdempotent idempotent}), {@link Code#DEADLINE_EXCEEDED} when the
 * deadline passed, {@link Code#NOT_FOUND} when the service has no nodes or the node no such
 * method, {@link Code#RESOURCE_EXHAUSTED} when the request exceeds the frame limit, and any code a
 * handler answered with.
 *
 * <p>Bad arguments: no method here throws. A call with a bad argument returns a future that has
 * already failed with a {@link BraidException} of {@link Code#INVALID_ARGUMENT} whose message names
 * the argument; for {@link #stream} the returned stream has already ended that way (its
 * {@code done()}, {@code receive()} and {@code send()} futures fail at once). Bad are: a null or
 * blank {@code target} or {@code method}; a {@code token} that is blank but not empty, or that the
 * link cache cannot keep (too long); a null {@code request}, {@code responseParser} or
 * {@code options}; options whose content type this client has no codec for. A null token is the
 * empty one (a stateless call). {@link CallOptions} itself
 * refuses bad values when they are set ({@code withTimeout(Duration.ZERO)} throws
 * IllegalArgumentException), like every other setting.
 */
public interface Client {
    <R> CompletableFuture<R> invoke(String target, String method, String token,
                                    MessageLite request, Parser<R> responseParser, CallOptions options);

    default <R> CompletableFuture<R> invoke(String target, String method, String token,
                                            MessageLite request, Parser<R> responseParser) {
        return invoke(target, method, token, request, responseParser, CallOptions.DEFAULT);
    }

    CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request, CallOptions options);

    /**
     * Opens a bidirectional stream to the node that a call with the same arguments would reach
     * (go-micro's Client.Stream). Returns at once and never throws; failures to open, bad arguments
     * included, end the stream.
     */
    <Q extends MessageLite, R> ClientStream<Q, R> stream(String target, String method, String token,
                                                        Parser<R> responseParser, CallOptions options);

    default CompletableFuture<byte[]> invoke(String target, String method, String token, byte[] request) {
        return invoke(target, method, token, request, CallOptions.DEFAULT);
    }
}
