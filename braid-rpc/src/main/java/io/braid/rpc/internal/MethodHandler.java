package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.braid.api.AsyncHandler;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Codec;
import io.braid.api.Handler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A registered method: how to decode its request, run its handler and encode its answer. The
 * handler's result or failure is delivered to {@link ServerCall#succeed} / {@link ServerCall#fail}.
 */
public abstract class MethodHandler {
    private final String name;
    private final boolean inline;
    private final boolean inLane;

    private MethodHandler(String name, boolean inline) {
        this(name, inline, false);
    }

    private MethodHandler(String name, boolean inline, boolean inLane) {
        this.name = requireMethodName(name);
        this.inline = inline;
        this.inLane = inLane;
    }

    public String name() {
        return name;
    }

    /** True when the handler never blocks and runs on the event loop. */
    public boolean inline() {
        return inline;
    }

    /**
     * True when calls with a token run in their token's lane (one at a time per token, in arrival
     * order); calls without a token never do.
     */
    public boolean inLane() {
        return inLane;
    }

    /** Decodes the request with {@code codec}, runs the handler, and completes with the encoded answer. */
    abstract CompletionStage<ByteString> invoke(ServerCall call, ByteString payload, Codec codec) throws Exception;

    public static <Q, R extends MessageLite> MethodHandler blocking(String name, Parser<Q> parser, Handler<Q, R> handler) {
        return blocking(name, parser, handler, false);
    }

    /** @param inLane whether its calls with a token run in their token's lane */
    public static <Q, R extends MessageLite> MethodHandler blocking(String name, Parser<Q> parser, Handler<Q, R> handler,
                                                                    boolean inLane) {
        required(parser, "requestParser");
        required(handler, "handler");
        return new MethodHandler(name, false, inLane) {
            @Override
            CompletionStage<ByteString> invoke(ServerCall call, ByteString payload, Codec codec) throws Exception {
                R response = handler.handle(call, parse(parser, payload, name, codec));
                return CompletableFuture.completedFuture(encode(response, name, codec));
            }
        };
    }

    public static <Q, R extends MessageLite> MethodHandler async(String name, Parser<Q> parser, AsyncHandler<Q, R> handler) {
        return async(name, parser, handler, false);
    }

    /** @param inLane whether its calls with a token run in their token's lane */
    public static <Q, R extends MessageLite> MethodHandler async(String name, Parser<Q> parser, AsyncHandler<Q, R> handler,
                                                                 boolean inLane) {
        required(parser, "requestParser");
        required(handler, "handler");
        return new MethodHandler(name, true, inLane) {
            @Override
            CompletionStage<ByteString> invoke(ServerCall call, ByteString payload, Codec codec) throws Exception {
                CompletionStage<R> stage = handler.handle(call, parse(parser, payload, name, codec));
                if (stage == null) {
                    throw new BraidException(Code.INTERNAL, "handler of '" + name + "' returned a null stage");
                }
                if (stage instanceof CompletableFuture<R> done && done.isDone() && !done.isCompletedExceptionally()) {
                    // Answered at once (the common case inline): no continuation per call.
                    return CompletableFuture.completedFuture(encodeAnswer(done.join(), name, codec));
                }
                return stage.thenApply(response -> encodeAnswer(response, name, codec));
            }
        };
    }

    /** True for a stream method: it must be opened as a stream, not called. */
    public boolean isStream() {
        return false;
    }

    /** Makes the served stream of a stream method (on the event loop). */
    ServerStream<?, ?> openStream(ServerConnectionHandler connection, long callId, String token,
                                  java.util.Map<String, String> metadata, io.braid.api.Deadline deadline, String caller,
                                  Codec codec, long initialCredit) {
        throw new BraidException(Code.INVALID_ARGUMENT, "'" + name + "' is not a stream method");
    }

    public static <Q, R extends MessageLite> MethodHandler stream(String name, Parser<Q> parser,
                                                                  io.braid.api.StreamHandler<Q, R> handler) {
        required(parser, "requestParser");
        required(handler, "handler");
        return new MethodHandler(name, false) {
            @Override
            public boolean isStream() {
                return true;
            }

            @Override
            CompletionStage<ByteString> invoke(ServerCall call, ByteString payload, Codec codec) {
                throw new BraidException(Code.INVALID_ARGUMENT, "'" + name() + "' is a stream method; open it as a stream");
            }

            @Override
            ServerStream<?, ?> openStream(ServerConnectionHandler connection, long callId, String token,
                                          java.util.Map<String, String> metadata, io.braid.api.Deadline deadline,
                                          String caller, Codec codec, long initialCredit) {
                return new ServerStream<>(connection, callId, name(), token, metadata, deadline, caller, codec, parser,
                        handler, initialCredit);
            }
        };
    }

    public static MethodHandler bytes(String name, Handler<byte[], byte[]> handler) {
        required(handler, "handler");
        return new MethodHandler(name, false) {
            @Override
            CompletionStage<ByteString> invoke(ServerCall call, ByteString payload, Codec codec) throws Exception {
                byte[] response = handler.handle(call, payload.toByteArray());
                if (response == null) {
                    throw new BraidException(Code.INTERNAL, "handler of '" + name + "' returned null");
                }
                return CompletableFuture.completedFuture(UnsafeByteOperations.unsafeWrap(response));
            }
        };
    }

    private static <Q> Q parse(Parser<Q> parser, ByteString payload, String method, Codec codec) {
        try {
            return codec.decode(payload, parser);
        } catch (BraidException e) {
            throw e;
        } catch (Exception e) {
            throw new BraidException(Code.INVALID_ARGUMENT, "request of '" + method + "' does not parse as "
                    + codec.contentType() + ": " + e.getMessage(), e);
        }
    }

    /** An async handler's answer encoded; a failure to encode is INTERNAL, naming the method. */
    private static ByteString encodeAnswer(MessageLite response, String method, Codec codec) {
        try {
            return encode(response, method, codec);
        } catch (BraidException e) {
            throw e;
        } catch (Exception e) {
            throw new BraidException(Code.INTERNAL, "cannot encode the answer of '" + method + "': " + e.getMessage(), e);
        }
    }

    private static ByteString encode(MessageLite response, String method, Codec codec) throws Exception {
        if (response == null) {
            throw new BraidException(Code.INTERNAL, "handler of '" + method + "' returned null");
        }
        return codec.encode(response);
    }

    /** Registration returns synchronously: a bad argument throws INVALID_ARGUMENT naming it. */
    static String requireMethodName(String name) {
        if (name == null || name.isBlank()) {
            throw new BraidException(Code.INVALID_ARGUMENT, "method must name a method, was "
                    + (name == null ? "null" : "'" + name + "'"));
        }
        return name;
    }

    private static void required(Object value, String name) {
        if (value == null) {
            throw new BraidException(Code.INVALID_ARGUMENT, name + " must not be null");
        }
    }
}
