package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.Codec;
import io.braid.api.IncomingCall;
import io.braid.api.ServerInterceptor;

import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.rpc.internal.lane.Lane;
import io.braid.rpc.internal.lane.LaneChain;
import io.braid.rpc.internal.lane.LaneWork;
import io.braid.rpc.internal.wire.Envelope;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call being served. It is the handler's {@link CallContext}, the task a virtual thread runs,
 * and the queued write of its own answer. It finishes exactly once: by its answer, by its
 * deadline, by a Cancel from the caller, or by the connection closing; whatever comes later is
 * dropped.
 *
 * <p>A call of a method that runs in its token's lane is also the lane's {@link LaneWork}: its turn
 * is the handler's run (for an async handler, until its stage completes), and it ends the turn
 * however it ends; while it waits, its deadline or a cancel takes it out of the lane.
 */
final class ServerCall implements IncomingCall, Runnable, Callable<Void>, WriteQueue.Item, LaneWork, LaneChain.Carrier,
        io.braid.api.internal.LaneListener.Timed {
    private static final Logger log = LoggerFactory.getLogger(ServerCall.class);
    private static final VarHandle FINISHED;

    static {
        try {
            FINISHED = MethodHandles.lookup().findVarHandle(ServerCall.class, "finished", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final long callId;
    private final ServerConnectionHandler connection;
    private final MethodHandler method;
    private final String token;
    private volatile Map<String, String> metadata;
    private Map<String, String> responseMetadata;
    private final Codec codec;
    private final List<ServerInterceptor> interceptors;
    private final Deadline deadline;
    private final String caller;
    private ByteString payload;
    @SuppressWarnings("unused") // through FINISHED
    private volatile boolean finished;
    private volatile boolean cancelled;
    /** An Envelope or an OutboundFrame; set before the call is queued, read on the event loop. */
    Object answer;
    /** Touched on the event loop only. */
    ScheduledFuture<?> timer;
    /** The token lane it runs in; null when it runs in none. Set before its turn can begin. */
    private volatile Lane lane;
    /** It waited in its lane: started by the lane, not on arrival. */
    private volatile boolean waited;
    /** Readings of its lane's clock (0 when nothing hears the lanes): entered the lane, began to run. */
    private long laneEnteredNanos;
    private long laneStartedNanos;

    ServerCall(ServerConnectionHandler connection, MethodHandler method, long callId, String token,
               Map<String, String> metadata, Deadline deadline, String caller, ByteString payload, Codec codec,
               List<ServerInterceptor> interceptors) {
        this.connection = connection;
        this.codec = codec;
        this.interceptors = interceptors;
        this.method = method;
        this.callId = callId;
        this.token = token;
        this.metadata = metadata;
        this.deadline = deadline;
        this.caller = caller;
        this.payload = payload;
    }

    /** Runs the handler (on a virtual thread, or inline on the event loop). */
    @Override
    public void run() {
        Lane in = lane;
        if (in != null) {
            laneStartedNanos = in.now();
        }
        if (cancelled || deadline.isExpired()) {
            tellTurn();
            endTurn();
            return; // the deadline timer or the cancel answers for it; do no expired work
        }
        if ((!method.inline() || waited) && connection.fenced(token)) {
            // Admitted while the gate was open, but the gate closed before a thread (or its lane) took it up.
            complete(null, connection.refusal(token));
            return;
        }
        if (interceptors.isEmpty()) {
            // The common case, kept free of future chains: a handler that answered at once (every
            // blocking handler, and an async one that returned a completed stage) is answered here.
            CompletionStage<ByteString> stage;
            CallContext previous = ServingCall.enter(this); // no Supplier per call
            try {
                stage = invokeHandler();
            } finally {
                ServingCall.exit(previous);
            }
            if (stage instanceof CompletableFuture<ByteString> done && done.isDone()) {
                ByteString bytes = null;
                Throwable failure = null;
                try {
                    bytes = done.join();
                } catch (RuntimeException e) {
                    failure = e;
                }
                complete(bytes, failure);
            } else {
                stage.whenComplete(this::complete);
            }
            return;
        }
        CompletionStage<Object> answered = ServingCall.with(this, () -> proceed(0));
        answered.whenComplete(this::complete);
    }

    /**
     * Answers the call (or fails it) and ends its turn. The turn is told to the lane listener
     * first, so whoever hears the answer finds the call in the lane meters.
     */
    private void complete(Object answer, Throwable failure) {
        tellTurn();
        if (failure != null) {
            fail(failure);
        } else {
            answerWith(answer);
        }
        endTurn();
    }

    /** Tells the lane listener that this call's turn ended, if it runs in a lane. Before {@link #endTurn}. */
    private void tellTurn() {
        Lane held = lane;
        if (held != null) {
            held.turnEnded(laneEnteredNanos, laneStartedNanos, true);
        }
    }

    /** Ends this call's turn in its lane, if it runs in one: the next call of its token may start. */
    private void endTurn() {
        Lane held = lane;
        if (held != null) {
            held.endTurn(this);
        }
    }

    @Override
    public void enteredLane(Lane lane) {
        this.laneEnteredNanos = lane.now(); // written before the offer that publishes this call
        this.lane = lane;
    }

    @Override
    public long laneWaitNanos() {
        Lane in = lane;
        return in == null || !in.timed() ? -1 : laneStartedNanos - laneEnteredNanos;
    }

    /** Its lane's turn came after it waited (any thread): start it where its handler runs. */
    @Override
    public void takeTurn() {
        waited = true;
        dispatch();
    }

    /**
     * Hands a call that holds its lane's turn to where its handler runs: the connection's event loop
     * for an async handler, the blocking executor otherwise. One refused there (the server is
     * shutting down) fails UNAVAILABLE and ends its turn.
     */
    void dispatch() {
        try {
            if (method.inline()) {
                connection.eventLoop().execute(this);
            } else {
                connection.blockingExecutor().execute(this);
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            laneStartedNanos = lane == null ? 0 : lane.now(); // it never ran: its turn is told as run for 0
            complete(null, new BraidException(Code.UNAVAILABLE, "server is shutting down"));
        }
    }

    @Override
    public void refuse(BraidException why) {
        fail(why);
    }

    @Override
    public String laneChain() {
        String chain = metadata.get(LaneChain.KEY);
        return lane == null ? chain : LaneChain.extend(chain, connection.nodeId(), token);
    }


    private void answerWith(Object answer) {
        if (answer instanceof ByteString bytes) {
            succeed(bytes);
        } else {
            fail(new BraidException(Code.INTERNAL, "a server interceptor answered with "
                    + (answer == null ? "null" : answer.getClass().getName()) + " instead of the handler's answer"));
        }
    }

    /** The handler itself, its failure as a failed stage. */
    private CompletionStage<ByteString> invokeHandler() {
        try {
            ByteString request = payload;
            payload = null;
            CompletionStage<ByteString> stage = method.invoke(this, request, codec);
            return stage != null ? stage : CompletableFuture.failedFuture(new BraidException(Code.INTERNAL,
                    "handler of '" + method.name() + "' returned a null stage"));
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        }
    }

    /** Interceptor {@code index}, or the handler after the last one. */
    private CompletionStage<Object> proceed(int index) {
        try {
            if (index == interceptors.size()) {
                ByteString request = payload;
                payload = null;
                return method.invoke(this, request, codec).thenApply(bytes -> bytes);
            }
            CompletionStage<Object> stage = interceptors.get(index).intercept(this, call -> proceed(index + 1));
            return stage != null ? stage : CompletableFuture.failedFuture(new BraidException(Code.INTERNAL,
                    "a server interceptor returned a null stage"));
        } catch (Throwable t) {
            return CompletableFuture.failedFuture(t);
        }
    }

    void succeed(ByteString payload) {
        if (deadline.isExpired()) {
            // Late: the deadline timer answers (or is about to); the caller has given up by now.
            // Racing it with a success would let the caller see one only when its own timer is late.
            expireFromAnyThread();
            return;
        }
        if (!FINISHED.compareAndSet(this, false, true)) {
            return;
        }
        OutboundFrame response = new OutboundFrame.OkResponseFrame(callId, responseMetadataSnapshot(), payload);
        int size = response.envelopeSize();
        int max = connection.maxFrameBytes();
        answer = size <= max ? response : Responses.error(callId, FrameEncoder.tooLarge(size, max));
        connection.answer(this);
    }

    void fail(Throwable failure) {
        BraidException error = Responses.fromHandlerFailure(failure);
        if (error.code() == Code.INTERNAL) {
            log.warn("handler of '{}' failed (call {} from {})", method.name(), callId, caller, error.getCause());
        }
        finish(Responses.error(callId, error.code(), error.getMessage(),
                Responses.withMoved(error, responseMetadataSnapshot())));
    }

    private synchronized Map<String, String> responseMetadataSnapshot() {
        return responseMetadata == null ? null : Map.copyOf(responseMetadata);
    }

    @Override
    public synchronized void putMetadata(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(metadata);
        copy.put(key, value);
        metadata = Collections.unmodifiableMap(copy);
    }

    @Override
    public synchronized Map<String, String> responseMetadata() {
        if (responseMetadata == null) {
            responseMetadata = Collections.synchronizedMap(new LinkedHashMap<>());
        }
        return responseMetadata;
    }

    private void finish(Envelope envelope) {
        if (!FINISHED.compareAndSet(this, false, true)) {
            return;
        }
        int max = connection.maxFrameBytes();
        answer = FrameEncoder.fits(envelope, max)
                ? envelope
                : Responses.error(callId, FrameEncoder.tooLarge(envelope.getSerializedSize(), max));
        connection.answer(this);
    }

    /**
     * The deadline timer's task: this call itself, as a {@link Callable} that {@link #expire}s it
     * ({@code run} is the handler's), so a timer costs no object beside the timer.
     */
    Callable<Void> expiry() {
        return this;
    }

    /** The deadline timer fired (see {@link #expiry}). */
    @Override
    public Void call() {
        expire();
        return null;
    }

    /** Deadline reached (on the event loop): answer DEADLINE_EXCEEDED now, drop the late result. */
    void expire() {
        withdrawFromLane();
        if (FINISHED.compareAndSet(this, false, true)) {
            cancelled = true;
            answer = Responses.error(callId, Code.DEADLINE_EXCEEDED,
                    "deadline exceeded while serving '" + method.name() + "'");
            connection.answerExpired(this);
        }
    }

    private void expireFromAnyThread() {
        finish(Responses.error(callId, Code.DEADLINE_EXCEEDED, "deadline exceeded while serving '" + method.name() + "'"));
    }

    /** The caller went away or cancelled (on the event loop): nothing will be sent. */
    void abort() {
        withdrawFromLane();
        cancelled = true;
        FINISHED.setVolatile(this, true);
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /** A call still waiting in its lane leaves it (its deadline passed, its caller cancelled or left). */
    private void withdrawFromLane() {
        Lane waitingIn = lane;
        if (waitingIn != null) {
            waitingIn.withdraw(this, laneEnteredNanos);
        }
    }

    @Override
    public void runOnLoop() {
        connection.writeAnswer(this);
    }

    @Override
    public void abandon() {
        cancelled = true;
    }

    @Override
    public String method() {
        return method.name();
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
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public String caller() {
        return caller;
    }

    @Override
    public boolean isCancelled() {
        return cancelled || deadline.isExpired();
    }

    @Override
    public String toString() {
        return "ServerCall{" + method.name() + "#" + callId + " from " + caller + "}";
    }
}
