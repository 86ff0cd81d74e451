package io.braid.rpc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.Code;
import io.braid.api.Codec;
import io.braid.api.Deadline;
import io.braid.api.StreamHandler;
import io.braid.api.StreamReader;
import io.braid.api.StreamWriter;

import io.braid.rpc.internal.wire.Envelope;
import io.braid.rpc.internal.wire.StreamCredit;
import io.braid.rpc.internal.wire.StreamEnd;
import io.braid.rpc.internal.wire.StreamMessage;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream being served: the handler's reader and writer, run on a virtual thread. The caller
 * may send at most {@link #WINDOW} messages ahead of what the handler has read (credit is granted
 * back as it reads); the handler's writes wait for the caller's credit. Inbound events arrive on
 * the event loop; the handler blocks on conditions; everything is guarded by one lock.
 *
 * <p>A stream with a token is fenced like a call with one: while the server's token gate is
 * closed the handler is handed no message (one already waiting in the inbox included) and may
 * write none; the stream ends UNAVAILABLE at the first such attempt, or when the server's periodic
 * check of its token streams finds the gate closed, whichever comes first.
 */
final class ServerStream<Q, R extends MessageLite> implements CallContext, StreamReader<Q>, StreamWriter<R>, Runnable {
    /** Messages the caller may send ahead of the handler's reads. */
    static final int WINDOW = 32;

    private static final Logger log = LoggerFactory.getLogger(ServerStream.class);

    final long callId;
    private final ServerConnectionHandler connection;
    private final String method;
    private final String token;
    private final Map<String, String> metadata;
    private final Deadline deadline;
    private final String caller;
    private final Codec codec;
    private final Parser<Q> parser;
    private final StreamHandler<Q, R> handler;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<ByteString> inbox = new ArrayDeque<>();
    private boolean halfClosed;
    private BraidException ended;
    private boolean endSent;
    private long sendCredit;
    private int readSinceGrant;

    ServerStream(ServerConnectionHandler connection, long callId, String method, String token, Map<String, String> metadata,
                 Deadline deadline, String caller, Codec codec, Parser<Q> parser, StreamHandler<Q, R> handler,
                 long initialCredit) {
        this.connection = connection;
        this.callId = callId;
        this.method = method;
        this.token = token;
        this.metadata = metadata;
        this.deadline = deadline;
        this.caller = caller;
        this.codec = codec;
        this.parser = parser;
        this.handler = handler;
        this.sendCredit = initialCredit;
    }

    /** The caller may send its first {@link #WINDOW} messages. */
    Envelope initialCredit() {
        return credit(WINDOW);
    }

    private Envelope credit(int count) {
        return Envelope.newBuilder().setStreamCredit(StreamCredit.newBuilder().setCallId(callId).setCredit(count)).build();
    }

    @Override
    public void run() {
        BraidException outcome = null;
        try {
            ServingCall.with(this, () -> {
                try {
                    handler.handle(this, this, this);
                    return null;
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
        } catch (Throwable t) {
            outcome = Responses.fromHandlerFailure(t);
            if (outcome.code() == Code.INTERNAL) {
                log.warn("stream handler of '{}' failed (stream {} from {})", method, callId, caller, outcome.getCause());
            }
        }
        end(outcome);
    }

    /**
     * Sends the stream's end once: OK, or the failure. A stream that had already ended for a reason
     * of its own (its deadline passed while the handler read) ends with that reason, even if the
     * handler then returned normally: the caller must not take it for a success.
     */
    private void end(BraidException failure) {
        lock.lock();
        try {
            if (endSent) {
                return;
            }
            endSent = true;
            if (ended == null) {
                ended = failure != null ? failure : new BraidException(Code.CANCELLED, "stream ended");
            } else if (failure == null) {
                failure = ended;
            }
        } finally {
            lock.unlock();
        }
        StreamEnd.Builder end = StreamEnd.newBuilder().setCallId(callId);
        if (failure != null) {
            end.setCode(failure.code().value()).setMessage(failure.getMessage() == null ? "" : failure.getMessage());
        }
        connection.endStream(this, Envelope.newBuilder().setStreamEnd(end).build());
    }

    @Override
    public Q read() throws InterruptedException {
        ByteString next;
        int grant = 0;
        lock.lock();
        try {
            while (inbox.isEmpty() && !halfClosed && ended == null) {
                long left = deadline.remainingNanos();
                if (left <= 0) {
                    expireLocked();
                    break;
                }
                changed.awaitNanos(left);
            }
            if (ended != null) {
                throw ended;
            }
            next = inbox.poll();
            if (next == null) {
                return null; // the caller half-closed and everything was read
            }
            if (++readSinceGrant >= WINDOW / 2) {
                grant = readSinceGrant;
                readSinceGrant = 0;
            }
        } finally {
            lock.unlock();
        }
        if (connection.fenced(token)) {
            throw fence();
        }
        if (grant > 0) {
            connection.send(credit(grant));
        }
        try {
            return codec.decode(next, parser);
        } catch (Exception e) {
            throw new BraidException(Code.INVALID_ARGUMENT, "a message of stream '" + method + "' does not parse as "
                    + codec.contentType() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void write(R message) throws InterruptedException {
        ByteString payload;
        try {
            payload = codec.encode(message);
        } catch (Exception e) {
            throw new BraidException(Code.INTERNAL, "cannot encode a message of stream '" + method + "': "
                    + e.getMessage(), e);
        }
        if (connection.fenced(token)) {
            throw fence();
        }
        lock.lock();
        try {
            while (sendCredit == 0 && ended == null) {
                long left = deadline.remainingNanos();
                if (left <= 0) {
                    expireLocked();
                    break;
                }
                changed.awaitNanos(left); // flow control: the caller has no room yet
            }
            if (ended != null) {
                throw ended;
            }
            sendCredit--;
        } finally {
            lock.unlock();
        }
        connection.send(Envelope.newBuilder()
                .setStreamMessage(StreamMessage.newBuilder().setCallId(callId).setPayload(payload)).build());
    }

    /** The gate closed: the stream ends UNAVAILABLE (unless it ended otherwise first); returns its end. */
    private BraidException fence() {
        abort(connection.refusal(token), true);
        lock.lock();
        try {
            return ended;
        } finally {
            lock.unlock();
        }
    }

    private void expireLocked() {
        if (ended == null) {
            ended = new BraidException(Code.DEADLINE_EXCEEDED, "deadline exceeded in stream '" + method + "'");
            changed.signalAll();
        }
    }

    // Inbound, on the event loop.

    /** A message from the caller; false when it overran the window it was given. */
    boolean onMessage(ByteString payload) {
        lock.lock();
        try {
            if (ended != null) {
                return true;
            }
            if (inbox.size() >= WINDOW) {
                return false;
            }
            inbox.add(payload);
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    void onHalfClose() {
        lock.lock();
        try {
            halfClosed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void onCredit(long credit) {
        lock.lock();
        try {
            sendCredit += credit;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The stream is over for a reason outside the handler: cancel, deadline, connection lost. */
    void abort(BraidException reason, boolean tellCaller) {
        lock.lock();
        try {
            if (ended != null) {
                return;
            }
            ended = reason;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (tellCaller) {
            end(reason);
        } else {
            lock.lock();
            try {
                endSent = true;
            } finally {
                lock.unlock();
            }
        }
    }

    long remainingNanos() {
        return deadline.remainingNanos();
    }

    @Override
    public String method() {
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
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public String caller() {
        return caller;
    }

    @Override
    public boolean isCancelled() {
        lock.lock();
        try {
            return ended != null || deadline.isExpired();
        } finally {
            lock.unlock();
        }
    }
}
