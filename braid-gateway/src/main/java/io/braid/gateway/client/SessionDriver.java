package io.braid.gateway.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.gateway.proto.Call;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.Login;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Logout;
import io.braid.gateway.proto.Push;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.Resume;
import io.braid.gateway.proto.Resumed;
import io.braid.gateway.proto.ServerFrame;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of one {@link GatewayClient}'s session and its connections. Every method runs on the
 * client's one event loop (the public entry points hop onto it), so nothing here is locked.
 *
 * <p>States: NEW (before {@code connect}), CONNECTING (an attempt open: connecting, handshaking,
 * or waiting for LoginOk / Resumed), ONLINE, WAITING (backing off before the next attempt),
 * FINISHED (kicked, logged out, closed, refused or given up: no more connections).
 */
final class SessionDriver implements FrameChannels.Listener {
    private static final Logger log = LoggerFactory.getLogger(SessionDriver.class);

    enum State { NEW, CONNECTING, ONLINE, WAITING, FINISHED }

    /** A call from its start to its Reply, failure or deadline. */
    private static final class PendingCall {
        final long seq;
        final String route;
        final byte[] payload;
        final CompletableFuture<byte[]> result;
        /** {@link System#nanoTime()} past which the call fails DEADLINE_EXCEEDED. */
        final long deadlineNanos;
        /** Written on a connection: if that connection drops before the Reply, the call fails (never resent). */
        boolean sent;

        PendingCall(long seq, String route, byte[] payload, CompletableFuture<byte[]> result, long deadlineNanos) {
            this.seq = seq;
            this.route = route;
            this.payload = payload;
            this.result = result;
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final ClientSettings settings;
    private final EventLoop loop;
    private final FrameChannels channels;
    private final CompletableFuture<SessionInfo> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    /**
     * Calls in flight or waiting to be sent, in the order they were made: every call has the same
     * timeout, so this is also the order of their deadlines, and one timer ({@link #expiryTimer},
     * set for the first call's deadline) serves them all.
     */
    private final Map<Long, PendingCall> calls = new LinkedHashMap<>();
    private ScheduledFuture<?> expiryTimer;

    final AtomicLong pushesReceived = new AtomicLong();
    final AtomicLong duplicatesSuppressed = new AtomicLong();
    final AtomicLong gaps = new AtomicLong();
    final AtomicLong pushesMissed = new AtomicLong();
    final AtomicLong disconnects = new AtomicLong();
    final AtomicLong resumes = new AtomicLong();
    final AtomicLong relogins = new AtomicLong();

    private volatile State state = State.NEW;
    private volatile SessionInfo session;
    private Channel channel;
    private InetSocketAddress channelAddress;
    private boolean attemptIsResume;
    private int addressIndex;
    private int failedAttempts;
    private ScheduledFuture<?> attemptTimer;
    private ScheduledFuture<?> retryTimer;
    private ScheduledFuture<?> giveUpTimer;
    /** What the gateway said before closing the connection (an Error frame), or why we closed it. */
    private String lastError;
    private String lastAttemptFailure;
    private String finishReason;

    private String resumeToken;
    private String reloginReason;
    private long lastPushSeq;
    private long nextCallSeq;

    SessionDriver(ClientSettings settings, EventLoop loop) {
        this.settings = settings;
        this.loop = loop;
        this.channels = new FrameChannels(settings, loop, this);
    }

    State state() {
        return state;
    }

    SessionInfo session() {
        return session;
    }

    CompletableFuture<Void> finished() {
        return finished;
    }

    // ---- entry points (on the loop) ----

    CompletableFuture<SessionInfo> connect() {
        if (state == State.NEW) {
            state = State.CONNECTING;
            startGiveUpTimer("connecting");
            openAttempt();
        }
        return connected;
    }

    void call(String route, byte[] payload, CompletableFuture<byte[]> result) {
        if (state == State.NEW) {
            result.completeExceptionally(new BraidException(Code.FAILED_PRECONDITION,
                    "call " + route + " before connect(): connect first"));
            return;
        }
        if (state == State.FINISHED) {
            result.completeExceptionally(finishedError());
            return;
        }
        PendingCall call = new PendingCall(++nextCallSeq, route, payload, result,
                System.nanoTime() + settings.callTimeout().toNanos());
        calls.put(call.seq, call);
        if (expiryTimer == null) {
            armExpiry(call.deadlineNanos);
        }
        if (state == State.ONLINE) {
            send(call);
        }
    }

    /** Sends Logout if online; finishes either way. Completes {@code done} when the connection closed. */
    void logout(CompletableFuture<Void> done) {
        if (state == State.ONLINE && channel != null) {
            Channel leaving = channel;
            finish(ClientEvent.Type.CLOSED, "logged out", false);
            leaving.writeAndFlush(ClientFrame.newBuilder().setLogout(Logout.getDefaultInstance()).build());
            // The gateway closes the connection after a Logout; close it ourselves if it does not.
            ScheduledFuture<?> force = loop.schedule(() -> leaving.close(), settings.connectTimeout().toNanos(),
                    TimeUnit.NANOSECONDS);
            leaving.closeFuture().addListener(future -> {
                force.cancel(false);
                done.complete(null);
            });
        } else {
            finish(ClientEvent.Type.CLOSED, "logged out while " + state.name().toLowerCase()
                    + " (the gateway ends the session when its resume grace passes)", true);
            done.complete(null);
        }
    }

    /** Closes the connection and finishes; {@code done} completes when the connection is closed. */
    void close(CompletableFuture<Void> done) {
        Channel open = channel;
        finish(ClientEvent.Type.CLOSED, "closed by the client", true);
        if (open == null) {
            done.complete(null);
        } else {
            open.closeFuture().addListener(future -> done.complete(null));
        }
    }

    // ---- connection attempts ----

    private void openAttempt() {
        retryTimer = null;
        if (state == State.FINISHED) {
            return;
        }
        state = State.CONNECTING;
        InetSocketAddress address = settings.addresses().get(addressIndex);
        ChannelFuture connecting = channels.open(address);
        Channel opening = connecting.channel();
        channel = opening;
        channelAddress = address;
        attemptTimer = loop.schedule(() -> {
            if (channel == opening && state == State.CONNECTING) {
                lastError = "no answer from " + address + " within " + settings.connectTimeout().toMillis() + " ms";
                opening.close();
            }
        }, settings.connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
        connecting.addListener(future -> {
            if (!future.isSuccess() && channel == opening) {
                attemptFailed("cannot connect to " + address + ": " + future.cause());
            }
        });
    }

    @Override
    public void onReady(Channel ready) {
        if (ready != channel || state != State.CONNECTING) {
            return;
        }
        attemptIsResume = resumeToken != null;
        ClientFrame first = attemptIsResume
                ? ClientFrame.newBuilder().setResume(Resume.newBuilder().setResumeToken(resumeToken)
                        .setLastPushSeq(lastPushSeq)).build()
                : ClientFrame.newBuilder().setLogin(Login.newBuilder()
                        .setCredentials(ByteString.copyFrom(settings.credentials()))).build();
        ready.writeAndFlush(first);
    }

    @Override
    public void onClosed(Channel closed, String reason) {
        if (closed != channel) {
            return; // an attempt given up already, or a connection we left
        }
        channel = null;
        cancel(attemptTimer);
        String why = lastError != null ? lastError : reason;
        lastError = null;
        if (state == State.ONLINE) {
            dropped(why);
        } else if (state == State.CONNECTING) {
            attemptFailed(why);
        }
    }

    private void dropped(String reason) {
        disconnects.incrementAndGet();
        log.info("gateway client {}: connection to {} dropped ({}); resuming", tokenForLog(), channelAddress, reason);
        emit(ClientEvent.Type.DISCONNECTED, reason + " (" + channelAddress + ")", 0);
        for (PendingCall call : new ArrayList<>(calls.values())) {
            if (call.sent) {
                fail(call, new BraidException(Code.UNAVAILABLE, "the connection to the gateway dropped before the"
                        + " reply to " + call.route + " (" + reason + "); it may or may not have run and is not resent"));
            }
        }
        failedAttempts = 0;
        if (settings.giveUpAfter().isZero()) {
            finish(ClientEvent.Type.CLOSED, "connection dropped and reconnecting is off: " + reason, true);
            return;
        }
        state = State.WAITING;
        startGiveUpTimer("reconnecting");
        openAttempt(); // the same gateway first, at once
    }

    private void attemptFailed(String reason) {
        channel = null;
        cancel(attemptTimer);
        if (state == State.FINISHED) {
            return;
        }
        if (settings.giveUpAfter().isZero()) {
            giveUp(reason);
            return;
        }
        failedAttempts++;
        addressIndex = (addressIndex + 1) % settings.addresses().size();
        long delay = backoffNanos(failedAttempts);
        log.debug("gateway client {}: attempt {} failed ({}); next {} in {} ms", tokenForLog(), failedAttempts,
                reason, settings.addresses().get(addressIndex), delay / 1_000_000);
        lastAttemptFailure = reason;
        state = State.WAITING;
        retryTimer = loop.schedule(this::openAttempt, delay, TimeUnit.NANOSECONDS);
    }

    /** min * 2^(n-1), at most max, jittered into its upper half. */
    private long backoffNanos(int failures) {
        long min = settings.reconnectMin().toNanos();
        long max = settings.reconnectMax().toNanos();
        long delay = min << Math.min(failures - 1, 30);
        if (delay <= 0 || delay > max) {
            delay = max;
        }
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    private void startGiveUpTimer(String doing) {
        cancel(giveUpTimer);
        if (settings.giveUpAfter().isZero()) {
            return;
        }
        giveUpTimer = loop.schedule(() -> {
            if (state == State.CONNECTING || state == State.WAITING) {
                giveUp("still " + doing + " after " + settings.giveUpAfter().toMillis() + " ms; last failure: "
                        + lastAttemptFailure);
            }
        }, settings.giveUpAfter().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void giveUp(String reason) {
        Channel open = channel;
        channel = null;
        if (open != null) {
            open.close();
        }
        finish(ClientEvent.Type.CLOSED, "gave up: " + reason, true,
                new BraidException(Code.UNAVAILABLE, "cannot reach a gateway: " + reason));
    }

    // ---- frames ----

    @Override
    public void onFrame(Channel from, ServerFrame frame) {
        if (from != channel) {
            return;
        }
        switch (frame.getKindCase()) {
            case LOGIN_OK -> loggedIn(frame.getLoginOk());
            case RESUMED -> resumed(frame.getResumed());
            case PUSH -> push(frame.getPush());
            case REPLY -> reply(frame.getReply());
            case KICKED -> {
                from.close();
                finish(ClientEvent.Type.KICKED, frame.getKicked().getReason(), true);
            }
            case ERROR -> error(from, Code.forValue(frame.getError().getCode()), frame.getError().getMessage());
            case PONG, KIND_NOT_SET -> {
            }
        }
    }

    private void loggedIn(LoginOk ok) {
        if (state != State.CONNECTING) {
            return;
        }
        online();
        resumeToken = ok.getResumeToken();
        session = new SessionInfo(ok.getToken(), ok.getSessionId(), channelAddress);
        if (reloginReason != null) {
            relogins.incrementAndGet();
            lastPushSeq = 0;
            String reason = reloginReason;
            reloginReason = null;
            log.info("gateway client {}: logged in afresh on {} ({})", ok.getToken(), channelAddress, reason);
            emit(ClientEvent.Type.RELOGGED, reason, 0);
        } else {
            emit(ClientEvent.Type.CONNECTED, "logged in on " + channelAddress, 0);
        }
        connected.complete(session);
        flushQueued();
    }

    private void resumed(Resumed ok) {
        if (state != State.CONNECTING || !attemptIsResume) {
            return;
        }
        online();
        resumeToken = ok.getResumeToken();
        session = new SessionInfo(ok.getToken(), ok.getSessionId(), channelAddress);
        // The proof that we read Resumed (any frame would do): from now on the gateway refuses the
        // token this resume used. Without it, that token would resume the session again if this
        // connection ended before the client's next call or keepalive.
        channels.ping(channel);
        resumes.incrementAndGet();
        emit(ClientEvent.Type.RESUMED, "resumed on " + channelAddress + " after push " + lastPushSeq,
                ok.getReplayed());
        flushQueued();
    }

    private void online() {
        state = State.ONLINE;
        cancel(attemptTimer);
        cancel(giveUpTimer);
        failedAttempts = 0;
    }

    private void push(Push push) {
        if (state != State.ONLINE) {
            return;
        }
        long seq = push.getPushSeq();
        if (seq <= lastPushSeq) {
            duplicatesSuppressed.incrementAndGet();
            return;
        }
        if (seq > lastPushSeq + 1) {
            gaps.incrementAndGet();
            pushesMissed.addAndGet(seq - lastPushSeq - 1);
            String missing = seq == lastPushSeq + 2 ? "push " + (lastPushSeq + 1)
                    : "pushes " + (lastPushSeq + 1) + ".." + (seq - 1);
            log.warn("gateway client {}: {} never arrived (got {})", tokenForLog(), missing, seq);
            emit(ClientEvent.Type.GAP, missing + " never arrived (got " + seq + ")", 0);
        }
        lastPushSeq = seq;
        pushesReceived.incrementAndGet();
        try {
            settings.pushListener().onPush(seq, push.getPayload().toByteArray());
        } catch (RuntimeException e) {
            log.warn("gateway client {}: push listener failed on push {}", tokenForLog(), seq, e);
        }
    }

    private void reply(Reply reply) {
        PendingCall call = calls.get(reply.getSeq());
        if (call == null || !call.sent) {
            return; // its deadline passed already
        }
        if (reply.getCode() == Code.OK.value()) {
            calls.remove(call.seq);
            call.result.complete(reply.getPayload().toByteArray());
        } else {
            Code code = Code.forValue(reply.getCode());
            fail(call, new BraidException(code == Code.OK ? Code.UNKNOWN : code, reply.getMessage()));
        }
    }

    private void error(Channel from, Code code, String message) {
        String text = code + ": " + message;
        if (state == State.ONLINE) {
            lastError = "gateway error " + text; // it closes the connection next, if it cannot go on
            return;
        }
        if (state != State.CONNECTING) {
            return;
        }
        boolean transientFailure = code == Code.UNAVAILABLE || code == Code.DEADLINE_EXCEEDED;
        channel = null;
        from.close();
        if (transientFailure) {
            attemptFailed((attemptIsResume ? "resume" : "login") + " refused " + text);
        } else if (attemptIsResume) {
            // The session is gone for good (or the token is wrong): log in afresh, at once, same gateway.
            resumeToken = null;
            reloginReason = "resume refused " + text;
            cancel(attemptTimer);
            openAttempt();
        } else {
            finish(ClientEvent.Type.CLOSED, "login refused " + text, true,
                    new BraidException(code, "login refused: " + message));
        }
    }

    // ---- calls ----

    private void flushQueued() {
        for (PendingCall call : new ArrayList<>(calls.values())) {
            if (!call.sent) {
                send(call);
            }
        }
    }

    private void send(PendingCall call) {
        call.sent = true;
        // The payload is the client's own copy (GatewayClient.call), never changed: no second copy.
        channel.writeAndFlush(ClientFrame.newBuilder().setCall(Call.newBuilder().setSeq(call.seq)
                .setRoute(call.route).setPayload(UnsafeByteOperations.unsafeWrap(call.payload))).build());
    }

    private void armExpiry(long deadlineNanos) {
        expiryTimer = loop.schedule(this::expireDue, Math.max(0, deadlineNanos - System.nanoTime()),
                TimeUnit.NANOSECONDS);
    }

    /** Fails every call whose deadline passed (the first ones in {@link #calls}), then waits for the next. */
    private void expireDue() {
        expiryTimer = null;
        long now = System.nanoTime();
        while (!calls.isEmpty()) {
            PendingCall first = calls.values().iterator().next();
            if (first.deadlineNanos - now > 0) {
                armExpiry(first.deadlineNanos);
                return;
            }
            expire(first);
        }
    }

    private void expire(PendingCall call) {
        String why = call.sent ? "no reply to " + call.route + " within " + settings.callTimeout().toMillis() + " ms"
                : call.route + " not sent within " + settings.callTimeout().toMillis()
                        + " ms: the client was (re)connecting" + (lastAttemptFailure == null ? ""
                                : " (" + lastAttemptFailure + ")");
        fail(call, new BraidException(Code.DEADLINE_EXCEEDED, why));
    }

    private void fail(PendingCall call, BraidException failure) {
        calls.remove(call.seq);
        call.result.completeExceptionally(failure);
    }

    // ---- the end ----

    private BraidException finishedError() {
        return new BraidException(Code.FAILED_PRECONDITION, "the gateway client is finished: " + finishReason);
    }

    private void finish(ClientEvent.Type type, String reason, boolean closeChannel) {
        finish(type, reason, closeChannel, null);
    }

    /**
     * Finishes for good: no more connections; the event fires once, then calls fail and a pending
     * connect fails with {@code connectFailure} (or FAILED_PRECONDITION naming the reason).
     */
    private void finish(ClientEvent.Type type, String reason, boolean closeChannel, BraidException connectFailure) {
        if (state == State.FINISHED) {
            return;
        }
        state = State.FINISHED;
        finishReason = (type == ClientEvent.Type.KICKED ? "kicked: " : "") + reason;
        cancel(attemptTimer);
        cancel(retryTimer);
        cancel(giveUpTimer);
        Channel open = channel;
        channel = null;
        if (closeChannel && open != null) {
            open.close();
        }
        emit(type, reason, 0);
        List<PendingCall> left = new ArrayList<>(calls.values());
        for (PendingCall call : left) {
            fail(call, finishedError());
        }
        cancel(expiryTimer);
        expiryTimer = null;
        connected.completeExceptionally(connectFailure != null ? connectFailure : finishedError());
        finished.complete(null);
    }

    private void emit(ClientEvent.Type type, String detail, int replayed) {
        try {
            settings.eventListener().accept(new ClientEvent(type, detail, replayed));
        } catch (RuntimeException e) {
            log.warn("gateway client {}: event listener failed on {}", tokenForLog(), type, e);
        }
    }

    private String tokenForLog() {
        SessionInfo known = session;
        return known == null ? "(not logged in)" : known.token();
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
