package io.braid.rpc.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.wire.Cancel;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.GoAway;
import io.braid.rpc.internal.wire.Ping;
import io.braid.rpc.internal.wire.Response;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.collection.LongObjectHashMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client end of one multiplexed connection: assigns call ids, correlates responses, runs
 * deadlines, pings when idle, and fails calls promptly when the connection is lost. All state is
 * touched on the channel's event loop; other threads hand calls over through a {@link WriteQueue}.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

    enum State { CONNECTING, READY, GOING_AWAY, CLOSED }

    private final PeerPool pool;
    private final PendingCall.Retrier retrier;
    private final int maxFrameBytes;
    private final String callerId;
    private final LongObjectHashMap<PendingCall<?>> inFlight = new LongObjectHashMap<>();
    private final ArrayDeque<PendingCall<?>> waiting = new ArrayDeque<>();
    private final LongObjectHashMap<ClientStreamCall<?, ?>> streams = new LongObjectHashMap<>();
    private final ArrayDeque<ClientStreamCall<?, ?>> waitingStreams = new ArrayDeque<>();
    private volatile State state = State.CONNECTING;
    private Channel channel;
    private WriteQueue writeQueue;
    private long nextCallId;
    private long pingData;

    ClientConnection(PeerPool pool, PendingCall.Retrier retrier, int maxFrameBytes, String callerId) {
        this.pool = pool;
        this.retrier = retrier;
        this.maxFrameBytes = maxFrameBytes;
        this.callerId = callerId;
    }

    void bind(Channel channel) {
        this.channel = channel;
        this.writeQueue = new WriteQueue(channel);
    }

    /** Whether new calls may be given to this connection. */
    boolean usable() {
        State s = state;
        return s == State.CONNECTING || s == State.READY;
    }

    Channel channel() {
        return channel;
    }

    /** Hands a call (new, or done and to be cancelled) to the event loop. Any thread. */
    void send(PendingCall<?> call) {
        writeQueue.enqueue(call);
    }

    /** On the event loop: the connection (and TLS handshake, if any) is up. */
    void onReady() {
        if (state != State.CONNECTING) {
            return;
        }
        state = State.READY;
        PendingCall<?> call;
        while ((call = waiting.poll()) != null) {
            writeCall(call);
        }
        ClientStreamCall<?, ?> stream;
        while ((stream = waitingStreams.poll()) != null) {
            writeOpen(stream);
        }
        channel.flush();
    }

    /** Any thread: opens a stream on this connection, in order with everything queued before. */
    void openStream(ClientStreamCall<?, ?> stream) {
        writeQueue.enqueue(new WriteQueue.Item() {
            @Override
            public void runOnLoop() {
                switch (state) {
                    case CONNECTING -> waitingStreams.add(stream);
                    case READY -> writeOpen(stream);
                    case GOING_AWAY, CLOSED -> stream.onLost(new BraidException(Code.UNAVAILABLE,
                            "connection to " + pool.describe() + " is closing"));
                }
            }

            @Override
            public void abandon() {
                stream.onLost(new BraidException(Code.UNAVAILABLE, "client is shut down"));
            }
        });
    }

    private void writeOpen(ClientStreamCall<?, ?> stream) {
        long id = ++nextCallId;
        Envelope open = stream.openOnLoop(id, channel.eventLoop());
        if (open == null) {
            stream.onLost(new BraidException(Code.DEADLINE_EXCEEDED, "deadline exceeded before the stream opened"));
            return;
        }
        streams.put(id, stream);
        channel.write(open, channel.voidPromise());
    }

    /** Any thread: queues one envelope of a stream, in order. */
    void sendEnvelope(Envelope envelope) {
        writeQueue.enqueue(envelope);
    }

    /** Any thread: the stream is over; forget it. */
    void forgetStream(ClientStreamCall<?, ?> stream) {
        channel.eventLoop().execute(() -> {
            if (streams.get(stream.callId()) == stream) {
                streams.remove(stream.callId());
                closeIfDrained();
            }
        });
    }

    /** On the event loop: the connection could not be made; nothing was written. */
    void onConnectFailed(Throwable cause) {
        state = State.CLOSED;
        BraidException reason = new BraidException(Code.UNAVAILABLE,
                "cannot connect to " + pool.describe() + ": "
                        + (cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName()), cause);
        failWaiting(reason);
        failStreams(reason);
        pool.removed(this);
    }

    private void failStreams(BraidException reason) {
        ClientStreamCall<?, ?> waitingStream;
        while ((waitingStream = waitingStreams.poll()) != null) {
            waitingStream.onLost(reason);
        }
        if (!streams.isEmpty()) {
            List<ClientStreamCall<?, ?>> open = new ArrayList<>(streams.values());
            streams.clear();
            for (ClientStreamCall<?, ?> stream : open) {
                stream.onLost(reason);
            }
        }
    }

    /** On the event loop. */
    void writeCall(PendingCall<?> call) {
        if (call.isDone()) {
            cancelInFlight(call);
            return;
        }
        switch (state) {
            case CONNECTING -> {
                startTimer(call);
                waiting.add(call);
            }
            case READY -> write(call);
            case GOING_AWAY, CLOSED -> notWritten(call, new BraidException(Code.UNAVAILABLE,
                    "connection to " + pool.describe() + " is closing"));
        }
    }

    private void write(PendingCall<?> call) {
        long id = ++nextCallId;
        call.callId = id;
        long remaining = call.deadline.remainingMillis();
        if (remaining <= 0) {
            call.endAttempt();
            call.completeExceptionally(deadlineExceeded(call));
            return;
        }
        OutboundFrame.RequestFrame request = call.request;
        request.callId = id;
        request.timeoutMs = (int) Math.min(Integer.MAX_VALUE, remaining);
        int size = request.envelopeSize();
        if (size > maxFrameBytes) {
            call.endAttempt();
            call.completeExceptionally(FrameEncoder.tooLarge(size, maxFrameBytes));
            return;
        }
        inFlight.put(id, call);
        startTimer(call);
        channel.write(request, channel.voidPromise());
    }

    private void startTimer(PendingCall<?> call) {
        if (call.timer == null) {
            call.timer = channel.eventLoop().schedule(() -> onDeadline(call),
                    Math.max(0, call.deadline.remainingNanos()), TimeUnit.NANOSECONDS);
        }
    }

    private void onDeadline(PendingCall<?> call) {
        call.timer = null;
        if (call.completeExceptionally(deadlineExceeded(call))) {
            cancelInFlight(call);
            if (state == State.READY || state == State.GOING_AWAY) {
                channel.flush(); // only then was a Cancel written; see WriteQueue for why not before
            }
        }
    }

    private static BraidException deadlineExceeded(PendingCall<?> call) {
        return new BraidException(Code.DEADLINE_EXCEEDED,
                "deadline exceeded calling " + call.service + "/" + call.method);
    }

    /** On the event loop: a done call still on the wire is taken out and the server told. */
    private void cancelInFlight(PendingCall<?> call) {
        call.endAttempt();
        if (call.callId != 0 && inFlight.get(call.callId) == call) {
            inFlight.remove(call.callId);
            if (state == State.READY || state == State.GOING_AWAY) {
                channel.write(Envelope.newBuilder().setCancel(Cancel.newBuilder().setCallId(call.callId)).build(),
                        channel.voidPromise());
            }
            closeIfDrained();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof InboundResponse response) {
            onResponse(response);
        } else if (msg instanceof Envelope envelope) {
            switch (envelope.getKindCase()) {
                case RESPONSE -> onResponse(InboundResponse.of(envelope.getResponse()));
                case PING -> onPing(ctx, envelope.getPing());
                case GO_AWAY -> onGoAway(envelope.getGoAway());
                case STREAM_MESSAGE -> {
                    ClientStreamCall<?, ?> stream = streams.get(envelope.getStreamMessage().getCallId());
                    if (stream != null) {
                        stream.onMessage(envelope.getStreamMessage().getPayload());
                    }
                }
                case STREAM_CREDIT -> {
                    ClientStreamCall<?, ?> stream = streams.get(envelope.getStreamCredit().getCallId());
                    if (stream != null) {
                        stream.onCredit(envelope.getStreamCredit().getCredit());
                    }
                }
                case STREAM_END -> {
                    ClientStreamCall<?, ?> stream = streams.remove(envelope.getStreamEnd().getCallId());
                    if (stream != null) {
                        stream.onEnd(envelope.getStreamEnd());
                        closeIfDrained();
                    }
                }
                default -> protocolError(ctx, "a server may not send " + envelope.getKindCase());
            }
        } else if (msg instanceof OversizedFrame oversized) {
            if (oversized.isRequest()) {
                protocolError(ctx, "a server may not send requests");
                return;
            }
            Response tooLarge = Response.newBuilder()
                    .setCallId(oversized.callId())
                    .setCode(Code.RESOURCE_EXHAUSTED.value())
                    .setMessage("response of " + oversized.length() + " bytes exceeds the client's frame limit of "
                            + maxFrameBytes + " bytes")
                    .build();
            onResponse(InboundResponse.of(tooLarge));
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private void onResponse(InboundResponse response) {
        PendingCall<?> call = inFlight.remove(response.getCallId());
        if (call == null) {
            ClientStreamCall<?, ?> stream = streams.remove(response.getCallId());
            if (stream != null) { // a stream refused before it opened (no such method, ...)
                stream.onEnd(io.braid.rpc.internal.wire.StreamEnd.newBuilder().setCallId(response.getCallId())
                        .setCode(response.getCode() == 0 ? Code.INTERNAL.value() : response.getCode())
                        .setMessage(response.getMessage()).build());
                closeIfDrained();
            }
            return; // else: the call timed out or was cancelled before its answer came
        }
        call.endAttempt();
        String movedTo = call.movedTo(response);
        if (movedTo != null) {
            call.noteMetadata(response);
            retrier.reroute(call, Responses.toException(response), movedTo);
        } else {
            call.onResponse(response);
        }
        closeIfDrained();
    }

    private void onPing(ChannelHandlerContext ctx, Ping ping) {
        if (!ping.getAck()) {
            ctx.writeAndFlush(Envelope.newBuilder().setPing(Ping.newBuilder().setData(ping.getData()).setAck(true))
                    .build(), ctx.voidPromise());
        }
    }

    private void onGoAway(GoAway goAway) {
        log.debug("{} sent GoAway (last call {}): {}", pool.describe(), goAway.getLastCallId(), goAway.getReason());
        if (state == State.READY || state == State.CONNECTING) {
            state = State.GOING_AWAY;
        }
        pool.goingAway(this);
        List<PendingCall<?>> unprocessed = new ArrayList<>();
        for (PendingCall<?> call : inFlight.values()) {
            if (call.callId > goAway.getLastCallId()) {
                unprocessed.add(call);
            }
        }
        BraidException reason = new BraidException(Code.UNAVAILABLE,
                pool.describe() + " is shutting down: " + goAway.getReason());
        for (PendingCall<?> call : unprocessed) {
            inFlight.remove(call.callId);
            notWritten(call, reason);
        }
        List<ClientStreamCall<?, ?>> unopened = new ArrayList<>();
        for (ClientStreamCall<?, ?> stream : streams.values()) {
            if (stream.callId() > goAway.getLastCallId()) {
                unopened.add(stream);
            }
        }
        for (ClientStreamCall<?, ?> stream : unopened) {
            streams.remove(stream.callId());
            stream.onLost(reason);
        }
        closeIfDrained();
    }

    /** Stops giving this connection new calls; it closes once its calls are answered. Any thread. */
    void retire() {
        channel.eventLoop().execute(() -> {
            if (state == State.READY) {
                state = State.GOING_AWAY;
            }
            if (state == State.CONNECTING) {
                channel.close();
                return;
            }
            closeIfDrained();
        });
    }

    private void closeIfDrained() {
        if (state == State.GOING_AWAY && inFlight.isEmpty() && streams.isEmpty()) {
            channel.close();
        }
    }

    private void notWritten(PendingCall<?> call, BraidException reason) {
        call.endAttempt();
        retrier.retryOrFail(call, reason, false);
    }

    private void failWaiting(BraidException reason) {
        PendingCall<?> call;
        while ((call = waiting.poll()) != null) {
            if (!call.isDone()) {
                notWritten(call, reason);
            }
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent idle) {
            if (idle.state() == IdleState.READER_IDLE) {
                log.warn("{} did not answer within the keep-alive timeout; closing the connection", pool.describe());
                ctx.close();
            } else if (idle.state() == IdleState.ALL_IDLE && state == State.READY) {
                ctx.writeAndFlush(Envelope.newBuilder().setPing(Ping.newBuilder().setData(++pingData)).build(),
                        ctx.voidPromise());
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        boolean wasConnecting = state == State.CONNECTING;
        state = State.CLOSED;
        pool.removed(this);
        BraidException lost = new BraidException(Code.UNAVAILABLE, "connection to " + pool.describe() + " lost");
        if (!inFlight.isEmpty()) {
            List<PendingCall<?>> calls = new ArrayList<>(inFlight.values());
            inFlight.clear();
            for (PendingCall<?> call : calls) {
                call.endAttempt();
                retrier.retryOrFail(call, lost, true);
            }
        }
        failWaiting(wasConnecting
                ? new BraidException(Code.UNAVAILABLE, "cannot connect to " + pool.describe())
                : lost);
        failStreams(lost);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        if (cause instanceof DecoderException) {
            log.warn("closing connection to {}: {}", pool.describe(), cause.getMessage());
        } else {
            log.debug("closing connection to {}", pool.describe(), cause);
        }
        ctx.close();
    }

    private void protocolError(ChannelHandlerContext ctx, String what) {
        log.warn("closing connection to {}: protocol error: {}", pool.describe(), what);
        ctx.close();
    }

    String callerId() {
        return callerId;
    }
}
