package io.braid.gateway.internal;

import com.google.protobuf.ByteString;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.internal.GatewaySessionStore;
import io.braid.gateway.proto.Kicked;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.Resumed;
import io.braid.gateway.proto.ServerFrame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One player's session on one connection of this gateway: its token, its session id (unique per
 * login, kept across resumes), its resume secret (new at each login and resume) and its socket.
 * States only move forward: PENDING (binding or resume under way) → BOUND (attached) → DETACHED
 * (the connection dropped; pushes are buffered for the resume grace) → MOVED (resumed: on another
 * connection, here or on another gateway; a new Session object carries on), or to KICKED or CLOSED
 * from PENDING, BOUND or DETACHED.
 *
 * <p>Pushes are numbered and logged by the durable {@link SessionLog} (the control plane's
 * {@code GatewaySessionStore}): appended under this session's lock, so in the order they arrived,
 * and written to the socket only once the append succeeded, by tasks on the connection's event
 * loop in seq order. A seq that arrives out of turn (an append whose outcome was unknown) closes the
 * connection: the client resumes and gets the pushes from the log. Thread-safe.
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    enum State { PENDING, BOUND, DETACHED, MOVED, KICKED, CLOSED }

    private final String token;
    private final String id;
    private final Channel channel;
    private final String resumeSecret;
    private final SessionLog durable;
    private final boolean resuming;
    /**
     * For a resumed session, the hash of the secret the client presented to resume (the one it
     * surely holds); null for a login. Accepted in place of this session's own secret while the
     * client has not {@linkplain #proven proven} it got the new one and the session is DETACHED.
     */
    private final byte[] previousHash;
    /** The client sent a frame on this connection after Resumed was written: it holds the new resume token. */
    private volatile boolean proven;
    private final Object lock = new Object();
    private final AtomicReference<State> state = new AtomicReference<>(State.PENDING);
    /** The last push seq written (or handed to the client in a replay); guarded by {@link #lock}. */
    private long lastWritten;
    /** The highest seq the store gave a push of this session (or a replay ended at); guarded by {@link #lock}. */
    private long lastLogged;
    /** Told when the store lost this session's record or went back behind what it acknowledged. */
    private final BiConsumer<Session, String> storeLost;
    /** When the connection dropped (System.nanoTime), while DETACHED; guarded by {@link #lock}. */
    private long detachedAtNanos;

    private Session(String token, String id, Channel channel, SessionLog durable, String presentedSecret,
                    BiConsumer<Session, String> storeLost) {
        this.storeLost = storeLost;
        this.token = token;
        this.id = id;
        this.channel = channel;
        this.durable = durable;
        this.resuming = presentedSecret != null;
        this.previousHash = presentedSecret == null ? null : hash(presentedSecret);
        byte[] secret = new byte[24];
        RANDOM.nextBytes(secret);
        this.resumeSecret = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    /** A session of a new login. */
    static Session login(String token, String id, Channel channel, SessionLog durable,
                         BiConsumer<Session, String> storeLost) {
        return new Session(token, id, channel, durable, null, storeLost);
    }

    /**
     * A session that resumes session {@code id} (held here or elsewhere) on {@code channel}, the
     * client having presented {@code presentedSecret} (see {@link #handOver}).
     */
    static Session resuming(String token, String id, Channel channel, SessionLog durable, String presentedSecret,
                            BiConsumer<Session, String> storeLost) {
        return new Session(token, id, channel, durable, presentedSecret, storeLost);
    }

    String token() {
        return token;
    }

    String id() {
        return id;
    }

    Channel channel() {
        return channel;
    }

    boolean isResuming() {
        return resuming;
    }

    State state() {
        return state.get();
    }

    /** A resumed session whose client has not shown yet that it got its Resumed frame (and so the new token). */
    boolean unproven() {
        return previousHash != null && !proven;
    }

    /** SHA-256 of this session's resume secret, as the durable record keeps it. */
    byte[] secretHash() {
        return hash(resumeSecret);
    }

    /** SHA-256 of a presented resume secret. */
    static byte[] hash(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }

    /** What the client presents to resume this session: {@code <session id>.<base64url token>.<secret>}. */
    String resumeToken() {
        return id + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(token.getBytes(StandardCharsets.UTF_8))
                + "." + resumeSecret;
    }

    /** A resume token taken apart (not yet checked against any session). */
    record ResumeToken(String token, String sessionId, String secret) {
        /** @throws BraidException UNAUTHENTICATED when {@code text} is not a resume token */
        static ResumeToken parse(String text) {
            String[] parts = text.split("\\.", -1);
            if (parts.length != 3 || parts[0].isEmpty() || parts[2].isEmpty()) {
                throw new BraidException(Code.UNAUTHENTICATED, "malformed resume token; log in afresh");
            }
            try {
                String token = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
                if (token.isEmpty()) {
                    throw new IllegalArgumentException("empty token");
                }
                return new ResumeToken(token, parts[0], parts[2]);
            } catch (IllegalArgumentException e) {
                throw new BraidException(Code.UNAUTHENTICATED, "malformed resume token; log in afresh");
            }
        }
    }

    /** PENDING → BOUND; false if the session was kicked or closed meanwhile. */
    boolean markBound() {
        return state.compareAndSet(State.PENDING, State.BOUND);
    }

    /** BOUND → DETACHED (its connection dropped); false in any other state. */
    boolean detach() {
        synchronized (lock) {
            detachedAtNanos = System.nanoTime();
            return state.compareAndSet(State.BOUND, State.DETACHED);
        }
    }

    /**
     * What the monitor's "where is a player?" shows of this session: its id, state, whether it
     * was resumed, the last push written to the client, and while DETACHED the seconds of the
     * resume grace left.
     */
    Map<String, String> describe(Duration grace) {
        Map<String, String> view = new LinkedHashMap<>();
        synchronized (lock) {
            State now = state.get();
            view.put("gateway.session", id);
            view.put("gateway.state", now.name());
            view.put("gateway.resumed", String.valueOf(resuming));
            view.put("gateway.lastPushWritten", String.valueOf(lastWritten == Long.MAX_VALUE ? 0 : lastWritten));
            if (now == State.DETACHED) {
                long left = grace.toNanos() - (System.nanoTime() - detachedAtNanos);
                view.put("gateway.graceSecondsLeft", String.valueOf(Math.max(0, left) / 100_000_000 / 10.0));
            }
        }
        return view;
    }

    /**
     * Starts handing this session over to a resume that presented {@code secret}: checks it
     * (constant-time; the secret presented to resume this session is accepted too while the session
     * is DETACHED and its client never proved it got the new one, see {@link #unproven}) and turns the session MOVED, so pushes to it are refused from now on (and
     * every append it made is ordered before the caller's takeover in the store). Returns the state
     * it had, for {@link #handOverFailed}; the caller then takes the session over in the store and
     * on success calls {@link #handedOver}.
     *
     * @throws BraidException UNAUTHENTICATED for a wrong secret; NOT_FOUND when the session has
     *     ended or was resumed already; UNAVAILABLE for the previous secret while this session's
     *     connection is still open
     */
    State handOver(String secret) {
        boolean current = MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8),
                resumeSecret.getBytes(StandardCharsets.UTF_8));
        boolean previous = !current && unproven() && MessageDigest.isEqual(hash(secret), previousHash);
        if (!current && !previous) {
            throw new BraidException(Code.UNAUTHENTICATED, "wrong resume token for session " + id + "; log in afresh");
        }
        synchronized (lock) {
            State now = state.get();
            if (previous && now == State.BOUND) {
                // Resumed with it a moment ago on a connection that is still open: that client may yet speak.
                throw new BraidException(Code.UNAVAILABLE, "session " + id + " was just resumed with this resume"
                        + " token on a connection that is still open; ask again");
            }
            if (now != State.DETACHED && now != State.BOUND) {
                throw new BraidException(Code.NOT_FOUND, "session " + id + " can no longer be resumed (" + now
                        + "); log in afresh");
            }
            state.set(State.MOVED);
            return now;
        }
    }

    /** The takeover after {@link #handOver} failed: the session is as it was (unless it ended meanwhile). */
    void handOverFailed(State before) {
        state.compareAndSet(State.MOVED, before);
    }

    /** The takeover after {@link #handOver} succeeded: the old connection (if any) closes. */
    void handedOver() {
        channel.close();
    }

    /**
     * PENDING → BOUND for a resume: writes Resumed and the replay (the pushes after the client's
     * last, {@code lastSeq} the session's last) before any later push. False if the session was
     * kicked or closed meanwhile.
     */
    boolean bindResumed(GatewaySessionStore.Replay replay) {
        synchronized (lock) {
            if (!state.compareAndSet(State.PENDING, State.BOUND)) {
                return false;
            }
            lastWritten = replay.lastSeq();
            lastLogged = replay.lastSeq();
            List<GatewaySessionStore.Push> pushes = replay.pushes();
            ServerFrame resumed = ServerFrame.newBuilder().setResumed(Resumed.newBuilder().setToken(token)
                    .setSessionId(id).setResumeToken(resumeToken()).setReplayed(pushes.size())).build();
            onLoop(() -> {
                ChannelHandlerContext frames = channel.pipeline().context(ConnectionHandler.class);
                if (previousHash != null && frames != null) {
                    // Any frame the client sends from now on proves it read Resumed: the old token is done.
                    // (Decoded frames only: a TLS close_notify or a WebSocket close is no proof.)
                    channel.pipeline().addBefore(frames.name(), "resume-proof", new ProofOfReceipt());
                }
                channel.write(resumed, channel.voidPromise());
                for (GatewaySessionStore.Push push : pushes) {
                    channel.write(pushFrame(push.seq(), ByteString.copyFrom(push.payload())), channel.voidPromise());
                }
                channel.flush();
            });
            return true;
        }
    }

    /**
     * Ends the session as kicked: writes a Kicked frame with {@code reason}, then closes the
     * connection. Returns the state it had (PENDING, BOUND or DETACHED mean it was kicked now).
     */
    State kick(String reason) {
        State before = end(State.KICKED);
        if (before == State.PENDING || before == State.BOUND) {
            channel.writeAndFlush(ServerFrame.newBuilder().setKicked(Kicked.newBuilder().setReason(reason)).build())
                    .addListener(ChannelFutureListener.CLOSE);
        }
        return before;
    }

    /**
     * Ends the session as closed because the store lost its record: an attached client gets
     * {@code Error NOT_FOUND} with {@code reason}, then the connection closes. Returns the state it had.
     */
    State lose(String reason) {
        State before = end(State.CLOSED);
        if (before == State.BOUND) {
            channel.writeAndFlush(ServerFrame.newBuilder().setError(io.braid.gateway.proto.Error.newBuilder()
                    .setCode(Code.NOT_FOUND.value()).setMessage(reason)).build())
                    .addListener(ChannelFutureListener.CLOSE);
        }
        return before;
    }

    /** Ends the session as closed (its connection ended, or its grace); returns the state it had. */
    State close() {
        return end(State.CLOSED);
    }

    private State end(State last) {
        synchronized (lock) {
            return state.getAndUpdate(now -> now == State.PENDING || now == State.BOUND || now == State.DETACHED
                    ? last : now);
        }
    }

    /**
     * Appends a push to the session's durable log (which numbers it, or finds its {@code pushId}
     * there already: see {@code GatewaySessionStore.append}) and, once the append
     * succeeded and the session is attached, writes it; completes with its push sequence number. A
     * DETACHED session only logs it (accepted = logged for the grace). On an attached connection
     * whose outbound bytes are past the high water mark (a client that does not read), the push is
     * not written and the connection is closed: the session detaches and the client resumes,
     * getting the push from the log.
     *
     * @return fails UNAVAILABLE when the session moved (resumed elsewhere) or is still resuming
     *     (asking again reaches its new place), or when the log could not take the push (the
     *     client never sees it), or when the store numbered it at or below a seq it had given this
     *     session before (it lost its last writes: the session ends through {@code storeLost});
     *     NOT_FOUND when it has ended
     */
    CompletableFuture<Long> push(String pushId, ByteString payload) {
        synchronized (lock) {
            State now = state.get();
            if (now == State.MOVED || (now == State.PENDING && resuming)) {
                return CompletableFuture.failedFuture(new BraidException(Code.UNAVAILABLE, "session " + id
                        + " of token '" + token + "' is being resumed or moved; ask again"));
            }
            if (now != State.BOUND && now != State.DETACHED) {
                return CompletableFuture.failedFuture(new BraidException(Code.NOT_FOUND, "the session of token '"
                        + token + "' has ended"));
            }
            // Registered under the lock: an in-memory log completes at once, and the writes must keep seq order.
            return durable.append(token, id, pushId, payload.toByteArray()).handle((appended, failure) -> {
                if (failure != null) {
                    throw notLogged(BraidException.from(failure));
                }
                long seq = appended.seq();
                if (appended.repeated() && seq <= lastLoggedNow()) {
                    // A retry of a push this session already numbered (and wrote or buffered): not again.
                    return seq;
                }
                // (A repeated push this session never heard of, because its first answer was lost, is written now.)
                if (!written(seq, payload)) {
                    String reason = "the session store went back to push " + seq + " of session " + id
                            + " after it had numbered " + lastLoggedNow() + " (Redis lost its last writes); log in afresh";
                    storeLost.accept(this, reason);
                    throw new BraidException(Code.UNAVAILABLE, "push to token '" + token + "' not accepted: " + reason);
                }
                return seq;
            });
        }
    }

    private BraidException notLogged(BraidException e) {
        if (e.code() == Code.FAILED_PRECONDITION) {
            // Taken over by a resume elsewhere (this gateway was taken for dead): let go, silently.
            synchronized (lock) {
                state.compareAndSet(State.BOUND, State.MOVED);
                state.compareAndSet(State.DETACHED, State.MOVED);
            }
            channel.close();
            return new BraidException(Code.UNAVAILABLE, "session " + id + " of token '" + token
                    + "' was resumed on another gateway; ask again");
        }
        if (e.code() == Code.NOT_FOUND) {
            return new BraidException(Code.NOT_FOUND, "the session of token '" + token + "' has ended: " + e.getMessage());
        }
        return new BraidException(Code.UNAVAILABLE, "push to token '" + token + "' not accepted: the session log"
                + " cannot take it (" + e.getMessage() + ")", e);
    }

    private long lastLoggedNow() {
        synchronized (lock) {
            return lastLogged;
        }
    }

    /**
     * A push was logged as {@code seq}: write it if attached and it is the next one; a gap closes the
     * connection. False if the store numbered it at or below a seq it gave before: it went back.
     */
    private boolean written(long seq, ByteString payload) {
        synchronized (lock) {
            if (seq <= lastLogged) {
                return false;
            }
            lastLogged = seq;
            if (state.get() != State.BOUND || seq <= lastWritten) {
                return true;
            }
            if (seq != lastWritten + 1) {
                log.debug("session {} of {}: push {} logged after {}: closing, the client resumes from the log",
                        id, token, seq, lastWritten);
                lastWritten = Long.MAX_VALUE;
                channel.close();
                return true;
            }
            lastWritten = seq;
            ServerFrame frame = pushFrame(seq, payload);
            onLoop(() -> {
                if (!channel.isActive()) {
                    return;
                }
                if (!channel.isWritable()) {
                    log.debug("session {} of {}: client too slow (outbound bytes past the limit), closing; it"
                            + " may resume", id, token);
                    channel.close();
                    return;
                }
                channel.writeAndFlush(frame, channel.voidPromise());
            });
            return true;
        }
    }

    /** Marks the session {@linkplain #proven proven} on the first client frame read, then leaves the pipeline. */
    private final class ProofOfReceipt extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            proven = true;
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    private static ServerFrame pushFrame(long seq, ByteString payload) {
        return ServerFrame.newBuilder().setPush(Push.newBuilder().setPushSeq(seq).setPayload(payload)).build();
    }

    private void onLoop(Runnable task) {
        try {
            channel.eventLoop().execute(task);
        } catch (RejectedExecutionException shutDown) {
            // The event loop is gone (gateway closing): the push stays in the buffer only.
        }
    }

    @Override
    public String toString() {
        return "Session{" + token + ", " + id + ", " + state.get() + "}";
    }
}
