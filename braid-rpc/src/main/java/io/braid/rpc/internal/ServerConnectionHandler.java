package io.braid.rpc.internal;

import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.api.internal.NotServedHere;
import io.braid.api.internal.UnknownMethod;
import io.braid.rpc.internal.lane.LaneChain;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.GoAway;
import io.braid.rpc.internal.wire.Ping;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.collection.LongObjectHashMap;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server end of one connection: dispatches requests to handlers, answers pings, enforces the
 * in-flight limit and deadlines, and drains on GoAway. Its state is touched on its event loop only.
 */
public final class ServerConnectionHandler extends ChannelInboundHandlerAdapter {
    /** Metadata key the client sets to its node id. */
    public static final String CALLER_KEY = "braid-caller";

    private static final Logger log = LoggerFactory.getLogger(ServerConnectionHandler.class);

    private final ServerConfig config;
    private final LongObjectHashMap<ServerCall> inFlight = new LongObjectHashMap<>();
    private final LongObjectHashMap<ServerStream<?, ?>> streams = new LongObjectHashMap<>();
    /** Streams in {@link #streams} that serve a token; written on the event loop, read by the fence check. */
    private volatile int tokenStreams;
    private ChannelHandlerContext ctx;
    private WriteQueue writeQueue;
    private String remote;
    private boolean reading;
    private boolean flushPending;
    private long maxSeenCallId;
    private boolean goingAway;
    private long goAwayLastCallId;

    public ServerConnectionHandler(ServerConfig config) {
        this.config = config;
    }

    int maxFrameBytes() {
        return config.maxFrameBytes();
    }

    /** The server's node id: names its lanes in the lane chain a call carries. */
    String nodeId() {
        return config.nodeId();
    }

    /** The event loop of this connection: where its non-blocking handlers run. */
    java.util.concurrent.Executor eventLoop() {
        return ctx.executor();
    }

    /** Where the server's blocking handlers run. */
    java.util.concurrent.Executor blockingExecutor() {
        return config.blockingExecutor();
    }

    public Channel channel() {
        return ctx.channel();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.writeQueue = new WriteQueue(ctx.channel());
        this.remote = describe(ctx.channel().remoteAddress());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        if (msg instanceof InboundRequest request) {
            onRequest(request);
        } else if (msg instanceof Envelope envelope) {
            switch (envelope.getKindCase()) {
                case REQUEST -> onRequest(InboundRequest.of(envelope.getRequest()));
                case PING -> onPing(envelope.getPing());
                case CANCEL -> onCancel(envelope.getCancel().getCallId());
                case STREAM_MESSAGE -> onStreamMessage(envelope.getStreamMessage());
                case STREAM_CREDIT -> {
                    ServerStream<?, ?> stream = streams.get(envelope.getStreamCredit().getCallId());
                    if (stream != null) {
                        stream.onCredit(envelope.getStreamCredit().getCredit());
                    }
                }
                case STREAM_END -> {
                    ServerStream<?, ?> stream = streams.get(envelope.getStreamEnd().getCallId());
                    if (stream != null) {
                        stream.onHalfClose();
                    }
                }
                case GO_AWAY -> log.debug("client {} sent GoAway", remote);
                default -> protocolError("a client may not send " + envelope.getKindCase());
            }
        } else if (msg instanceof OversizedFrame oversized) {
            if (!oversized.isRequest()) {
                protocolError("a client may not send responses");
                return;
            }
            noteCallId(oversized.callId());
            write(Responses.error(oversized.callId(), Code.RESOURCE_EXHAUSTED,
                    "request of " + oversized.length() + " bytes exceeds the server's frame limit of "
                            + config.maxFrameBytes() + " bytes"));
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        reading = false;
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    private void onRequest(InboundRequest request) {
        long callId = request.getCallId();
        if (goingAway && callId > goAwayLastCallId) {
            return; // announced as not processed in our GoAway: the client sends it elsewhere
        }
        noteCallId(callId);
        io.braid.api.Codec codec = config.codecs().resolve(request.getContentType());
        if (codec == null) {
            write(Responses.error(callId, Code.INVALID_ARGUMENT, "unknown content type '" + request.getContentType()
                    + "' (this node knows " + config.codecs() + ")"));
            return;
        }
        MethodHandler method = config.methods().get(request.getMethod());
        if (method == null) {
            write(Responses.error(callId, Code.NOT_FOUND, UnknownMethod.message(request.getMethod())));
            return;
        }
        if (fenced(request.getToken())) {
            write(Responses.error(callId, refusal(request.getToken())));
            return;
        }
        if (inFlight.size() + streams.size() >= config.maxInFlightPerConnection()) {
            write(Responses.error(callId, Code.RESOURCE_EXHAUSTED, "more than " + config.maxInFlightPerConnection()
                    + " calls in flight on one connection (maxInFlightPerConnection)"));
            return;
        }
        long maxNanos = config.maxDeadline().toNanos();
        long timeoutNanos = request.getTimeoutMs() == 0
                ? maxNanos
                : Math.min(maxNanos, TimeUnit.MILLISECONDS.toNanos(request.getTimeoutMs()));
        Map<String, String> metadata = request.getMetadataMap();
        String caller = metadata.getOrDefault(CALLER_KEY, remote);
        if (request.getStream() || method.isStream()) {
            openStream(request, method, codec, metadata, caller, timeoutNanos);
            return;
        }
        if (method.inLane() && !request.getToken().isEmpty()) {
            serveInLane(request, method, codec, metadata, caller, timeoutNanos);
            return;
        }
        ServerCall call = new ServerCall(this, method, callId, request.getToken(), metadata,
                Deadline.afterNanos(timeoutNanos, config.ticker()), caller, request.getPayload(), codec, config.interceptors());
        inFlight.put(callId, call);
        if (method.inline()) {
            call.run();
            if (inFlight.get(callId) == call) {
                call.timer = ctx.executor().schedule(call.expiry(), timeoutNanos, TimeUnit.NANOSECONDS);
            }
            return;
        }
        call.timer = ctx.executor().schedule(call.expiry(), timeoutNanos, TimeUnit.NANOSECONDS);
        try {
            config.blockingExecutor().execute(call);
        } catch (RejectedExecutionException e) {
            inFlight.remove(callId);
            call.abort();
            write(Responses.error(callId, Code.UNAVAILABLE, "server is shutting down"));
        }
    }

    /**
     * A call of a method that runs in its token's lane: refused FAILED_PRECONDITION when the chain it
     * came through already holds this lane (it would wait for itself), RESOURCE_EXHAUSTED when the
     * lane is full, UNAVAILABLE when the server shuts down; else it starts now when the lane is free
     * (an async handler inline, as outside a lane) or waits there, its deadline timer running.
     */
    private void serveInLane(InboundRequest request, MethodHandler method, io.braid.api.Codec codec,
                             Map<String, String> metadata, String caller, long timeoutNanos) {
        long callId = request.getCallId();
        String token = request.getToken();
        if (LaneChain.contains(metadata.get(LaneChain.KEY), config.nodeId(), token)) {
            write(Responses.error(callId, Code.FAILED_PRECONDITION,
                    LaneChain.reentryRefusal(method.name(), token, config.nodeId())));
            return;
        }
        ServerCall call = new ServerCall(this, method, callId, token, metadata,
                Deadline.afterNanos(timeoutNanos, config.ticker()), caller, request.getPayload(), codec, config.interceptors());
        inFlight.put(callId, call);
        boolean startNow;
        try {
            startNow = config.lanes().enter(token, call);
        } catch (io.braid.api.BraidException refused) {
            inFlight.remove(callId);
            call.abort();
            write(Responses.error(callId, refused));
            return;
        }
        if (startNow && method.inline()) {
            call.run();
            if (inFlight.get(callId) == call) {
                call.timer = ctx.executor().schedule(call.expiry(), timeoutNanos, TimeUnit.NANOSECONDS);
            }
            return;
        }
        call.timer = ctx.executor().schedule(call.expiry(), timeoutNanos, TimeUnit.NANOSECONDS);
        if (startNow) {
            call.dispatch();
        }
    }

    private void openStream(InboundRequest request, MethodHandler method, io.braid.api.Codec codec, Map<String, String> metadata,
                            String caller, long timeoutNanos) {
        long callId = request.getCallId();
        if (!request.getStream()) {
            write(Responses.error(callId, Code.INVALID_ARGUMENT, "'" + method.name() + "' is a stream method; open it as a stream"));
            return;
        }
        ServerStream<?, ?> stream;
        try {
            stream = method.openStream(this, callId, request.getToken(), metadata, Deadline.afterNanos(timeoutNanos, config.ticker()), caller,
                    codec, request.getInitialCredit());
        } catch (io.braid.api.BraidException e) {
            write(Responses.error(callId, e));
            return;
        }
        putStream(stream);
        write(stream.initialCredit());
        ServerStream<?, ?> opened = stream;
        ctx.executor().schedule(() -> {
            if (streams.get(callId) == opened) {
                opened.abort(new io.braid.api.BraidException(Code.DEADLINE_EXCEEDED,
                        "deadline exceeded in stream '" + method.name() + "'"), true);
            }
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        try {
            config.blockingExecutor().execute(stream);
        } catch (RejectedExecutionException e) {
            removeStream(callId);
            write(Responses.error(callId, Code.UNAVAILABLE, "server is shutting down"));
        }
    }

    private void onStreamMessage(io.braid.rpc.internal.wire.StreamMessage message) {
        ServerStream<?, ?> stream = streams.get(message.getCallId());
        if (stream == null) {
            return;
        }
        if (fenced(stream.token())) {
            // The fence covers every message of a token's stream: this one is dropped, the stream ends.
            stream.abort(refusal(stream.token()), true);
            return;
        }
        if (!stream.onMessage(message.getPayload())) {
            removeStream(message.getCallId());
            stream.abort(new io.braid.api.BraidException(Code.RESOURCE_EXHAUSTED,
                    "the caller sent more than the " + ServerStream.WINDOW + " messages it was allowed ahead"), true);
        }
    }

    /**
     * Whether a call or stream message for {@code token} must be refused now: it has a token and
     * the server's gate does not admit it. A gate that throws counts as closed. Any thread.
     */
    boolean fenced(String token) {
        io.braid.api.internal.TokenGate gate = config.tokenGate();
        if (token.isEmpty() || gate == null) {
            return false;
        }
        try {
            return !gate.admits(token);
        } catch (RuntimeException e) {
            log.warn("the token gate failed; serving no token calls while it does", e);
            return true;
        }
    }

    /**
     * What a fenced call or stream of {@code token} ends with: why the gate refused it. A token
     * given to another node (the gate open) is a {@link NotServedHere}, so that the caller may send
     * the call on (to the gate's {@link io.braid.api.internal.TokenGate#movedTo}, when it knows);
     * a closed gate (self-fencing) is a plain UNAVAILABLE: the token's link still names this node,
     * and sending the call on would bring it back here.
     */
    io.braid.api.BraidException refusal(String token) {
        io.braid.api.internal.TokenGate gate = config.tokenGate();
        boolean nodeOpen;
        try {
            nodeOpen = gate != null && gate.isOpen();
        } catch (RuntimeException e) {
            nodeOpen = false;
        }
        if (nodeOpen) {
            return new NotServedHere("this node no longer serves token " + token + ": it was given to another node",
                    movedTo(gate, token));
        }
        return new io.braid.api.BraidException(Code.UNAVAILABLE, "this node cannot confirm its registration and "
                + "serves no token calls or stream messages until it can (self-fencing)");
    }

    /** Where the gate says {@code token} went; empty when it does not know or fails. */
    private static io.braid.api.Link movedTo(io.braid.api.internal.TokenGate gate, String token) {
        try {
            return gate.movedTo(token).orElse(null);
        } catch (RuntimeException e) {
            log.warn("the token gate failed to say where token {} went", token, e);
            return null;
        }
    }

    /**
     * The gate was found closed (any thread): the open streams that serve a token it no longer
     * admits ({@code all}: every token stream) end UNAVAILABLE now, whether or not a message
     * arrives. Streams without a token are not touched.
     */
    public void fenceTokenStreams(boolean all) {
        if (tokenStreams == 0) {
            return;
        }
        try {
            ctx.executor().execute(() -> {
                for (ServerStream<?, ?> stream : new ArrayList<>(streams.values())) {
                    if (!stream.token().isEmpty() && (all || fenced(stream.token()))) {
                        stream.abort(refusal(stream.token()), true);
                    }
                }
            });
        } catch (RejectedExecutionException loopGone) {
            // the server is closing: its connections and their streams end with it
        }
    }

    /** Ends this connection's open streams of {@code token} with {@code reason}, on its event loop. */
    public void endTokenStreams(String token, io.braid.api.BraidException reason) {
        if (tokenStreams == 0) {
            return;
        }
        try {
            ctx.executor().execute(() -> {
                for (ServerStream<?, ?> stream : new ArrayList<>(streams.values())) {
                    if (stream.token().equals(token)) {
                        stream.abort(reason, true);
                    }
                }
            });
        } catch (RejectedExecutionException loopGone) {
            // the server is closing: its connections and their streams end with it
        }
    }

    /** Adds the tokens of this connection's open token streams to {@code into}, on its event loop. */
    public java.util.concurrent.CompletableFuture<Void> collectStreamTokens(java.util.Set<String> into) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        if (tokenStreams == 0) {
            done.complete(null);
            return done;
        }
        try {
            ctx.executor().execute(() -> {
                for (ServerStream<?, ?> stream : streams.values()) {
                    if (!stream.token().isEmpty()) {
                        into.add(stream.token());
                    }
                }
                done.complete(null);
            });
        } catch (RejectedExecutionException loopGone) {
            done.complete(null); // closing: its streams end with it
        }
        return done;
    }

    private void putStream(ServerStream<?, ?> stream) {
        streams.put(stream.callId, stream);
        if (!stream.token().isEmpty()) {
            tokenStreams++;
        }
    }

    private ServerStream<?, ?> removeStream(long callId) {
        ServerStream<?, ?> stream = streams.remove(callId);
        if (stream != null && !stream.token().isEmpty()) {
            tokenStreams--;
        }
        return stream;
    }

    /** Any thread: queues an envelope of a stream, in order. */
    void send(Envelope envelope) {
        writeQueue.enqueue(envelope);
    }

    /** Any thread: queues a stream's last envelope; the stream is forgotten once it is written. */
    void endStream(ServerStream<?, ?> stream, Envelope end) {
        writeQueue.enqueue(new WriteQueue.Item() {
            @Override
            public void runOnLoop() {
                if (streams.get(stream.callId) == stream) {
                    removeStream(stream.callId);
                }
                ctx.write(end, ctx.voidPromise());
                closeIfDrained();
            }

            @Override
            public void abandon() {
                // the connection is gone
            }
        });
    }

    private void noteCallId(long callId) {
        if (callId > maxSeenCallId) {
            maxSeenCallId = callId;
        }
    }

    private void onPing(Ping ping) {
        if (!ping.getAck()) {
            write(Envelope.newBuilder().setPing(Ping.newBuilder().setData(ping.getData()).setAck(true)).build());
        }
    }

    private void onCancel(long callId) {
        ServerCall call = inFlight.remove(callId);
        if (call != null) {
            call.abort();
            closeIfDrained();
        }
        ServerStream<?, ?> stream = removeStream(callId);
        if (stream != null) {
            stream.abort(new io.braid.api.BraidException(Code.CANCELLED, "the caller cancelled the stream"), false);
            closeIfDrained();
        }
    }

    /** The call has its answer; write it now if we are on the loop inside a read, else batch it. */
    void answer(ServerCall call) {
        if (ctx.executor().inEventLoop() && reading) {
            writeAnswer(call);
        } else {
            writeQueue.enqueue(call);
        }
    }

    /** On the event loop, outside any batch: write and flush. */
    void answerExpired(ServerCall call) {
        writeAnswer(call);
        if (!reading) {
            ctx.flush();
        }
    }

    /** On the event loop: write the answer unless the call was already taken out. */
    void writeAnswer(ServerCall call) {
        if (inFlight.get(call.callId) != call) {
            return;
        }
        inFlight.remove(call.callId);
        if (call.timer != null) {
            call.timer.cancel(false);
        }
        write(call.answer);
        closeIfDrained();
    }

    /** An Envelope or an OutboundFrame (see FrameEncoder). */
    private void write(Object message) {
        ctx.write(message, ctx.voidPromise());
        if (reading) {
            flushPending = true;
        }
    }

    /**
     * Starts a graceful close (on any thread): the client is told the last call id we serve,
     * calls up to it finish, then the connection closes.
     */
    public io.netty.util.concurrent.Future<?> goAway(String reason) {
        return ctx.executor().submit(() -> {
            if (goingAway) {
                return;
            }
            goingAway = true;
            goAwayLastCallId = maxSeenCallId;
            ctx.writeAndFlush(Envelope.newBuilder()
                    .setGoAway(GoAway.newBuilder().setLastCallId(goAwayLastCallId).setReason(reason))
                    .build(), ctx.voidPromise());
            closeIfDrained();
        });
    }

    private void closeIfDrained() {
        if (goingAway && inFlight.isEmpty() && streams.isEmpty()) {
            ChannelFuture flushed = ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER);
            flushed.addListener(f -> ctx.close());
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Backpressure: a client that does not read its answers stops being read from.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.debug("closing connection from {}: idle for {}", remote, config.idleTimeout());
            ctx.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!streams.isEmpty()) {
            for (ServerStream<?, ?> stream : new ArrayList<>(streams.values())) {
                stream.abort(new io.braid.api.BraidException(Code.UNAVAILABLE, "the caller's connection was lost"), false);
            }
            streams.clear();
            tokenStreams = 0;
        }
        if (!inFlight.isEmpty()) {
            for (ServerCall call : new ArrayList<>(inFlight.values())) {
                call.abort();
            }
            inFlight.clear();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!ctx.channel().isOpen()) {
            return; // already closing: the decoder's last look at a dead connection's bytes
        }
        if (cause instanceof DecoderException) {
            log.warn("closing connection from {}: {}", remote, cause.getMessage());
        } else {
            log.debug("closing connection from {}", remote, cause);
        }
        ctx.close();
    }

    private void protocolError(String what) {
        log.warn("closing connection from {}: protocol error: {}", remote, what);
        ctx.close();
    }

    static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getHostString() + ':' + inet.getPort();
        }
        return String.valueOf(address);
    }
}
