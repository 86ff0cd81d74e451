package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import com.google.protobuf.Parser;
import io.braid.api.Codec;
import io.braid.api.Deadline;
import io.braid.api.Node;
import io.braid.rpc.internal.wire.Cancel;
import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.Request;
import io.braid.rpc.internal.wire.StreamCredit;
import io.braid.rpc.internal.wire.StreamEnd;
import io.braid.rpc.internal.wire.StreamMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The caller's end of a stream. Its state is guarded by its own lock (user threads and the event
 * loop both touch it); every write goes through the connection's write queue, so messages leave
 * in the order they were sent. Sends wait for the server's credit; the server may send at most
 * {@link #WINDOW} messages ahead of this side's {@link #receive()}s.
 */
public final class ClientStreamCall<Q, R> implements ClientStream<Q, R>, RoutedCall {
    /** Messages the server may send ahead of what the caller has received. */
    static final int WINDOW = 32;
    /** Sends waiting for credit beyond which send() refuses: the caller is not waiting for its futures. */
    static final int MAX_WAITING_SENDS = 4_096;

    private record Outgoing(ByteString payload, CompletableFuture<Void> sent) {
    }

    private final String service;
    private final String method;
    private final String token;
    /** Set by {@link #prepare} once the client interceptors have run; null until then. */
    private volatile Deadline deadline;
    private final Request.Builder open;
    private final Codec codec;
    private final PendingCall.Decoder<R> decoder;
    private final List<String> tried = new ArrayList<>(1);
    private final ArrayDeque<Outgoing> waitingSends = new ArrayDeque<>();
    private final ArrayDeque<ByteString> inbox = new ArrayDeque<>();
    private final ArrayDeque<CompletableFuture<R>> waitingReceives = new ArrayDeque<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private ClientConnection connection;
    private long callId;
    private boolean opened;
    private long sendCredit;
    private int receivedSinceGrant;
    private boolean halfCloseRequested;
    private boolean halfCloseSent;
    private BraidException ended;
    private boolean endedOk;
    private ScheduledFuture<?> timer;

    /**
     * A stream not yet routed: {@link #prepare} gives it its deadline and metadata, then the client
     * routes it.
     *
     * @param codec encodes what the caller sends and decodes what it receives with {@code parser}
     */
    public ClientStreamCall(String service, String method, String token, Codec codec, Parser<R> parser) {
        this.service = service;
        this.method = method;
        this.token = token;
        this.codec = codec;
        this.decoder = bytes -> codec.decode(bytes, parser);
        this.open = Request.newBuilder().setMethod(method).setToken(token)
                .setContentType(CodecRegistry.wireName(codec)).setStream(true).setInitialCredit(WINDOW);
    }

    // Routing.

    /**
     * Sets what the client interceptors left, before the stream is routed: its deadline and its
     * metadata, and the caller's node id (null for none) as {@link ServerConnectionHandler#CALLER_KEY}.
     */
    public void prepare(Deadline deadline, java.util.Map<String, String> metadata, String callerId) {
        open.putAllMetadata(metadata);
        if (callerId != null) {
            open.putMetadata(ServerConnectionHandler.CALLER_KEY, callerId);
        }
        this.deadline = deadline;
    }

    /** Whether {@link #prepare} ran: the interceptors let the stream go on. */
    boolean isPrepared() {
        return deadline != null;
    }

    @Override
    public String service() {
        return service;
    }

    String method() {
        return method;
    }

    @Override
    public String token() {
        return token;
    }

    @Override
    public Deadline deadline() {
        return deadline;
    }

    @Override
    public synchronized boolean tried(String nodeId) {
        return tried.contains(nodeId);
    }

    @Override
    public synchronized int attempts() {
        return tried.size();
    }

    @Override
    public boolean isDone() {
        return done.isDone();
    }

    @Override
    public boolean completeExceptionally(Throwable failure) {
        return finish(BraidException.from(failure), false);
    }

    @Override
    public void attempt(Node node, ClientConnection target) {
        synchronized (this) {
            if (ended != null || endedOk) {
                return;
            }
            tried.add(node.id());
            connection = target;
        }
        target.openStream(this);
    }

    // On the event loop, from the connection.

    /** Writes the opening request; returns it, or null when the stream ended meanwhile. */
    synchronized Envelope openOnLoop(long id, java.util.concurrent.ScheduledExecutorService loop) {
        if (ended != null || endedOk) {
            return null;
        }
        callId = id;
        opened = true;
        long remaining = deadline.remainingMillis();
        if (remaining <= 0) {
            return null;
        }
        // No Cancel at the deadline: the server knows it too and ends the stream with DEADLINE_EXCEEDED.
        timer = loop.schedule(() -> finish(new BraidException(Code.DEADLINE_EXCEEDED,
                "deadline exceeded in stream " + service + "/" + method), true), deadline.remainingNanos(),
                TimeUnit.NANOSECONDS);
        return Envelope.newBuilder()
                .setRequest(open.setCallId(id).setTimeoutMs((int) Math.min(Integer.MAX_VALUE, remaining))).build();
    }

    long callId() {
        return callId;
    }

    void onCredit(long credit) {
        List<Outgoing> writable = new ArrayList<>();
        boolean halfClose;
        synchronized (this) {
            sendCredit += credit;
            while (sendCredit > 0 && !waitingSends.isEmpty()) {
                sendCredit--;
                writable.add(waitingSends.poll());
            }
            halfClose = halfCloseRequested && waitingSends.isEmpty() && !halfCloseSent;
            if (halfClose) {
                halfCloseSent = true;
            }
        }
        for (Outgoing out : writable) {
            write(out);
        }
        if (halfClose) {
            connection.sendEnvelope(halfCloseEnvelope());
        }
    }

    void onMessage(ByteString payload) {
        CompletableFuture<R> waiting;
        synchronized (this) {
            if (ended != null || endedOk) {
                return;
            }
            waiting = waitingReceives.poll();
            if (waiting == null) {
                if (inbox.size() >= WINDOW) {
                    overran();
                    return;
                }
                inbox.add(payload);
                return;
            }
        }
        deliver(waiting, payload);
    }

    private void overran() {
        if (finish(new BraidException(Code.RESOURCE_EXHAUSTED, "the server sent more than the " + WINDOW
                + " messages it was allowed ahead"), true)) {
            cancelOnWire();
        }
    }

    void onEnd(StreamEnd end) {
        Code code = Code.forValue(end.getCode());
        finish(code == Code.OK ? null : new BraidException(code, end.getMessage()), true);
    }

    void onLost(BraidException reason) {
        finish(reason, true);
    }

    // The caller's side.

    @Override
    public CompletableFuture<Void> send(Q message) {
        ByteString payload;
        try {
            payload = codec.encode(message);
        } catch (Exception e) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT,
                    "cannot encode a message for stream " + service + "/" + method + ": " + e.getMessage(), e));
        }
        Outgoing out = new Outgoing(payload, new CompletableFuture<>());
        synchronized (this) {
            if (ended != null || endedOk || halfCloseRequested) {
                return CompletableFuture.failedFuture(ended != null ? ended
                        : new BraidException(Code.FAILED_PRECONDITION, "stream " + service + "/" + method
                                + (halfCloseRequested ? " is half-closed" : " has ended")));
            }
            if (!opened || sendCredit == 0 || !waitingSends.isEmpty()) {
                if (waitingSends.size() >= MAX_WAITING_SENDS) {
                    return CompletableFuture.failedFuture(new BraidException(Code.RESOURCE_EXHAUSTED,
                            MAX_WAITING_SENDS + " messages wait for the server's room; wait for send() futures"));
                }
                waitingSends.add(out);
                return out.sent();
            }
            sendCredit--;
        }
        write(out);
        return out.sent();
    }

    private void write(Outgoing out) {
        connection.sendEnvelope(Envelope.newBuilder()
                .setStreamMessage(StreamMessage.newBuilder().setCallId(callId).setPayload(out.payload())).build());
        out.sent().complete(null);
    }

    @Override
    public void halfClose() {
        boolean now;
        synchronized (this) {
            if (halfCloseRequested || ended != null || endedOk) {
                return;
            }
            halfCloseRequested = true;
            now = opened && waitingSends.isEmpty();
            if (now) {
                halfCloseSent = true;
            }
        }
        if (now) {
            connection.sendEnvelope(halfCloseEnvelope());
        }
    }

    private Envelope halfCloseEnvelope() {
        return Envelope.newBuilder().setStreamEnd(StreamEnd.newBuilder().setCallId(callId)).build();
    }

    @Override
    public void cancel() {
        if (finish(new BraidException(Code.CANCELLED, "stream " + service + "/" + method + " cancelled by the caller"),
                false)) {
            cancelOnWire();
        }
    }

    private void cancelOnWire() {
        ClientConnection current;
        synchronized (this) {
            current = opened ? connection : null;
        }
        if (current != null) {
            current.sendEnvelope(Envelope.newBuilder().setCancel(Cancel.newBuilder().setCallId(callId)).build());
            current.forgetStream(this);
        }
    }

    @Override
    public CompletableFuture<R> receive() {
        ByteString next;
        int grant = 0;
        synchronized (this) {
            next = inbox.poll();
            if (next == null) {
                if (ended != null) {
                    return CompletableFuture.failedFuture(ended);
                }
                if (endedOk) {
                    return CompletableFuture.completedFuture(null);
                }
                CompletableFuture<R> waiting = new CompletableFuture<>();
                waitingReceives.add(waiting);
                return waiting;
            }
            grant = countReceived();
        }
        grantCredit(grant);
        return decoded(next);
    }

    private void deliver(CompletableFuture<R> waiting, ByteString payload) {
        int grant;
        synchronized (this) {
            grant = countReceived();
        }
        grantCredit(grant);
        CompletableFuture<R> value = decoded(payload);
        value.whenComplete((message, failure) -> {
            if (failure != null) {
                waiting.completeExceptionally(failure);
            } else {
                waiting.complete(message);
            }
        });
    }

    /** Under the lock: counts one received message; returns the credit to grant now, if any. */
    private int countReceived() {
        if (++receivedSinceGrant >= WINDOW / 2) {
            int grant = receivedSinceGrant;
            receivedSinceGrant = 0;
            return grant;
        }
        return 0;
    }

    private void grantCredit(int grant) {
        if (grant > 0) {
            ClientConnection current;
            synchronized (this) {
                current = opened && ended == null && !endedOk ? connection : null;
            }
            if (current != null) {
                current.sendEnvelope(Envelope.newBuilder()
                        .setStreamCredit(StreamCredit.newBuilder().setCallId(callId).setCredit(grant)).build());
            }
        }
    }

    private CompletableFuture<R> decoded(ByteString payload) {
        try {
            return CompletableFuture.completedFuture(decoder.decode(payload));
        } catch (Exception e) {
            return CompletableFuture.failedFuture(new BraidException(Code.INTERNAL,
                    "a message of stream " + service + "/" + method + " does not parse: " + e.getMessage(), e));
        }
    }

    @Override
    public CompletableFuture<Void> done() {
        return done;
    }

    /**
     * Ends the stream once: OK when {@code failure} is null. Messages already received stay
     * readable; waiting receives and sends are answered. Returns whether this call ended it.
     */
    private boolean finish(BraidException failure, boolean fromServer) {
        List<CompletableFuture<R>> receives;
        List<Outgoing> sends;
        ScheduledFuture<?> deadlineTimer;
        ClientConnection current;
        synchronized (this) {
            if (ended != null || endedOk) {
                return false;
            }
            if (failure == null) {
                endedOk = true;
            } else {
                ended = failure;
            }
            receives = new ArrayList<>(waitingReceives);
            waitingReceives.clear();
            sends = new ArrayList<>(waitingSends);
            waitingSends.clear();
            deadlineTimer = timer;
            current = fromServer && opened ? connection : null;
        }
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
        if (current != null) {
            current.forgetStream(this);
        }
        BraidException sendFailure = failure != null ? failure
                : new BraidException(Code.FAILED_PRECONDITION, "stream " + service + "/" + method + " has ended");
        for (Outgoing out : sends) {
            out.sent().completeExceptionally(sendFailure);
        }
        for (CompletableFuture<R> receive : receives) {
            if (failure == null) {
                receive.complete(null);
            } else {
                receive.completeExceptionally(failure);
            }
        }
        if (failure == null) {
            done.complete(null);
        } else {
            done.completeExceptionally(failure);
        }
        return true;
    }

    @Override
    public String toString() {
        return "ClientStream{" + service + "/" + method + (token.isEmpty() ? "" : " token=" + token) + "}";
    }
}
