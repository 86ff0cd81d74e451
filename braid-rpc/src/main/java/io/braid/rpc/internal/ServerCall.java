package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.rpc.internal.wire.Envelope;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call being served. It is the handler's {@link CallContext}, the task a virtual thread runs,
 * and the queued write of its own answer. It finishes exactly once: by its answer, by its
 * deadline, by a Cancel from the caller, or by the connection closing; whatever comes later is
 * dropped.
 */
final class ServerCall implements CallContext, Runnable, WriteQueue.Item {
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
    private final Map<String, String> metadata;
    private final Deadline deadline;
    private final String caller;
    private ByteString payload;
    @SuppressWarnings("unused") // through FINISHED
    private volatile boolean finished;
    private volatile boolean cancelled;
    /** Set before the call is queued; read on the event loop. */
    Envelope answer;
    /** Touched on the event loop only. */
    ScheduledFuture<?> timer;

    ServerCall(ServerConnectionHandler connection, MethodHandler method, long callId, String token,
               Map<String, String> metadata, Deadline deadline, String caller, ByteString payload) {
        this.connection = connection;
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
        if (cancelled || deadline.isExpired()) {
            return; // the deadline timer or the cancel answers for it; do no expired work
        }
        ByteString request = payload;
        payload = null;
        try {
            method.invoke(this, request);
        } catch (Throwable t) {
            fail(t);
        }
    }

    void succeed(ByteString response) {
        finish(Responses.ok(callId, response));
    }

    void fail(Throwable failure) {
        BraidException error = Responses.fromHandlerFailure(failure);
        if (error.code() == Code.INTERNAL) {
            log.warn("handler of '{}' failed (call {} from {})", method.name(), callId, caller, error.getCause());
        }
        finish(Responses.error(callId, error));
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

    /** Deadline reached (on the event loop): answer DEADLINE_EXCEEDED now, drop the late result. */
    void expire() {
        if (FINISHED.compareAndSet(this, false, true)) {
            cancelled = true;
            answer = Responses.error(callId, Code.DEADLINE_EXCEEDED,
                    "deadline exceeded while serving '" + method.name() + "'");
            connection.answerExpired(this);
        }
    }

    /** The caller went away or cancelled (on the event loop): nothing will be sent. */
    void abort() {
        cancelled = true;
        FINISHED.setVolatile(this, true);
        if (timer != null) {
            timer.cancel(false);
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
