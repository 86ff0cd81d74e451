package io.braid.gateway.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Deadline;
import io.braid.gateway.Gateway;
import io.braid.gateway.RouteTable;
import io.braid.gateway.proto.Call;
import io.braid.gateway.proto.ClientFrame;
import io.braid.gateway.proto.Error;
import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.Pong;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.Resume;
import io.braid.gateway.proto.ServerFrame;
import io.braid.runtime.Braid;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, whichever front end it came through: the first frame must be a Login,
 * which the login hook turns into a token and the {@link Binder} binds; then Calls go to the
 * routes the route table allows, Pings get Pongs. Frames out of order get an Error frame and the
 * connection stays; frames that cannot be read, too large, or a connection idle past the idle
 * timeout or not logged in within the login timeout get an Error frame and are closed. Calls over
 * the player's {@link CallRateLimit} (held from {@link PlayerRateLimits} while the connection is
 * live, shared with the player's other connections here) are answered RESOURCE_EXHAUSTED and not
 * forwarded; a player that keeps flooding is closed with an Error frame. Nothing
 * here blocks. One instance per connection; its state is touched on the connection's event loop.
 */
final class ConnectionHandler extends SimpleChannelInboundHandler<ClientFrame> {
    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

    private enum Phase { NEW, LOGGING_IN, LIVE }

    private final GatewaySettings settings;
    private final Braid braid;
    private final Binder binder;
    private final CallOptions callOptions;
    private final PlayerRateLimits rateLimits;
    private CallRateLimit rateLimit; // the player's, held from LIVE until the connection closes
    private Phase phase = Phase.NEW;
    private boolean closingForFlood;
    private Session session;
    private ScheduledFuture<?> loginTimer;

    ConnectionHandler(GatewaySettings settings, Braid braid, Binder binder, PlayerRateLimits rateLimits) {
        this.settings = settings;
        this.braid = braid;
        this.binder = binder;
        this.callOptions = CallOptions.DEFAULT.withTimeout(settings.callTimeout());
        this.rateLimits = rateLimits;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        long millis = settings.loginTimeout().toMillis();
        loginTimer = ctx.executor().schedule(() -> {
            if (phase != Phase.LIVE) {
                closeWith(ctx, Code.DEADLINE_EXCEEDED, "not logged in within the login timeout of " + millis + " ms");
            }
        }, millis, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientFrame frame) {
        switch (frame.getKindCase()) {
            case LOGIN -> login(ctx, frame.getLogin().getCredentials().toByteArray());
            case RESUME -> resume(ctx, frame.getResume());
            case LOGOUT -> logout(ctx);
            case CALL -> call(ctx, frame.getCall());
            case PING -> ctx.writeAndFlush(ServerFrame.newBuilder()
                    .setPong(Pong.newBuilder().setNonce(frame.getPing().getNonce())).build());
            case KIND_NOT_SET -> error(ctx, Code.INVALID_ARGUMENT, "empty client frame (no login, resume, call,"
                    + " logout or ping)");
        }
    }

    private void login(ChannelHandlerContext ctx, byte[] credentials) {
        if (phase != Phase.NEW) {
            error(ctx, Code.FAILED_PRECONDITION, phase == Phase.LIVE ? "already logged in on this connection"
                    : "a login is already under way on this connection");
            return;
        }
        phase = Phase.LOGGING_IN;
        Deadline deadline = Deadline.after(settings.loginTimeout());
        CompletableFuture<String> token;
        try {
            token = settings.login().authenticate(credentials, ctx.channel().remoteAddress());
            if (token == null) {
                token = CompletableFuture.failedFuture(new IllegalStateException("the login hook returned null"));
            }
        } catch (RuntimeException e) {
            token = CompletableFuture.failedFuture(e);
        }
        Channel channel = ctx.channel();
        token.thenCompose(player -> {
            checkToken(player);
            return channel.isActive() ? binder.bind(player, channel, deadline)
                    : CompletableFuture.failedFuture(new BraidException(Code.CANCELLED, "connection closed"));
        }).whenComplete((bound, failure) -> channel.eventLoop().execute(() -> live(ctx, bound, failure, true)));
    }

    private void resume(ChannelHandlerContext ctx, Resume resume) {
        if (phase != Phase.NEW) {
            error(ctx, Code.FAILED_PRECONDITION, phase == Phase.LIVE ? "already logged in on this connection"
                    : "a login or resume is already under way on this connection");
            return;
        }
        phase = Phase.LOGGING_IN;
        Deadline deadline = Deadline.after(settings.loginTimeout());
        Channel channel = ctx.channel();
        CompletableFuture<Session> resumed;
        try {
            Session.ResumeToken parsed = Session.ResumeToken.parse(resume.getResumeToken());
            resumed = binder.resume(parsed, resume.getLastPushSeq(), channel, deadline);
        } catch (RuntimeException e) {
            resumed = CompletableFuture.failedFuture(e);
        }
        // The session wrote Resumed and the replay itself, ahead of any later push.
        resumed.whenComplete((session, failure) -> channel.eventLoop().execute(() -> live(ctx, session, failure,
                false)));
    }

    private void logout(ChannelHandlerContext ctx) {
        if (phase != Phase.LIVE) {
            error(ctx, Code.FAILED_PRECONDITION, "logout before login: log in first and wait for LoginOk");
            return;
        }
        Channel channel = ctx.channel();
        binder.logout(session).whenComplete((ended, failure) -> channel.close());
    }

    private static void checkToken(String token) {
        if (token == null || token.isBlank() || token.length() > Gateway.MAX_TOKEN_LENGTH
                || token.startsWith(Binder.NODE_TOKEN_PREFIX)) {
            throw new IllegalStateException("the login hook answered a token that is blank, longer than "
                    + Gateway.MAX_TOKEN_LENGTH + " characters, or starts with the reserved "
                    + Binder.NODE_TOKEN_PREFIX);
        }
    }

    private void live(ChannelHandlerContext ctx, Session bound, Throwable failure, boolean writeLoginOk) {
        if (failure != null) {
            BraidException e = loginFailure(failure);
            if (ctx.channel().isActive()) {
                closeWith(ctx, e.code(), e.getMessage());
            }
            return;
        }
        session = bound;
        if (!ctx.channel().isActive()) {
            return; // the binder ends the session when its connection closes
        }
        phase = Phase.LIVE;
        loginTimer.cancel(false);
        rateLimit = rateLimits.acquire(bound.token()); // released in channelInactive, which comes after this
        if (writeLoginOk) {
            ctx.writeAndFlush(ServerFrame.newBuilder().setLoginOk(LoginOk.newBuilder().setToken(bound.token())
                    .setSessionId(bound.id()).setResumeToken(bound.resumeToken())).build());
        }
    }

    private static BraidException loginFailure(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof BraidException braid) {
            return braid;
        }
        log.warn("login failed inside the gateway", cause);
        return new BraidException(Code.INTERNAL, "login failed inside the gateway");
    }

    private void call(ChannelHandlerContext ctx, Call call) {
        if (phase != Phase.LIVE) {
            error(ctx, Code.FAILED_PRECONDITION, "call " + call.getSeq() + " before login: log in first and wait"
                    + " for LoginOk");
            return;
        }
        if (closingForFlood) {
            return; // closed for flooding: the calls still in its last read are dropped unanswered
        }
        CallRateLimit.Admission admission = rateLimit.admit(call.getPayload().size());
        switch (admission.verdict()) {
            case PASS -> { }
            case REFUSE -> {
                binder.meters().rateLimited();
                ctx.writeAndFlush(reply(call.getSeq(), Code.RESOURCE_EXHAUSTED, admission.limit() + "; call "
                        + call.getSeq() + " not forwarded", ByteString.EMPTY));
                return;
            }
            case CLOSE -> {
                closingForFlood = true;
                log.info("gateway connection {} of {}: closed for flooding after {} refused calls ({})",
                        ctx.channel().remoteAddress(), session.token(), settings.rateLimits().maxRefusals(),
                        admission.limit());
                closeWith(ctx, Code.RESOURCE_EXHAUSTED, admission.limit() + ": closed after "
                        + settings.rateLimits().maxRefusals() + " refused calls without a quiet second");
                return;
            }
        }
        RouteTable.Route route = settings.routes().resolve(call.getRoute()).orElse(null);
        if (route == null) {
            ctx.writeAndFlush(reply(call.getSeq(), Code.NOT_FOUND, "route '" + call.getRoute()
                    + "' is not in this gateway's route table", ByteString.EMPTY));
            return;
        }
        Channel channel = ctx.channel();
        braid.client().invoke(route.service(), route.method(), session.token(), call.getPayload().toByteArray(),
                callOptions).whenComplete((answer, failure) -> {
                    if (failure == null) {
                        // The answer is ours alone (decoded for this call): wrapped, not copied.
                        channel.writeAndFlush(reply(call.getSeq(), Code.OK, "", UnsafeByteOperations.unsafeWrap(answer)));
                    } else {
                        BraidException e = BraidException.from(failure);
                        channel.writeAndFlush(reply(call.getSeq(), e.code(), String.valueOf(e.getMessage()),
                                ByteString.EMPTY));
                    }
                });
    }

    private static ServerFrame reply(long seq, Code code, String message, ByteString payload) {
        return ServerFrame.newBuilder().setReply(Reply.newBuilder().setSeq(seq).setCode(code.value())
                .setMessage(message).setPayload(payload)).build();
    }

    private static ServerFrame errorFrame(Code code, String message) {
        return ServerFrame.newBuilder().setError(Error.newBuilder().setCode(code.value()).setMessage(message)).build();
    }

    private static void error(ChannelHandlerContext ctx, Code code, String message) {
        ctx.writeAndFlush(errorFrame(code, message));
    }

    private static void closeWith(ChannelHandlerContext ctx, Code code, String message) {
        ctx.writeAndFlush(errorFrame(code, message)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent) {
            closeWith(ctx, Code.DEADLINE_EXCEEDED, "no frame for the idle timeout of "
                    + settings.idleTimeout().toMillis() + " ms; send a Ping to keep the connection");
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof BadFrameException bad) {
            closeWith(ctx, bad.code(), bad.getMessage());
        } else if (root instanceof TooLongFrameException || cause instanceof TooLongFrameException) {
            closeWith(ctx, Code.RESOURCE_EXHAUSTED, "frame too large: over maxFrameBytes of "
                    + settings.maxFrameBytes() + " (" + root.getMessage() + ")");
        } else if (root instanceof CorruptedFrameException) {
            closeWith(ctx, Code.INVALID_ARGUMENT, "unreadable frame: " + root.getMessage());
        } else if (root instanceof SSLException) {
            // Not TLS, or a failed handshake: nothing the client could read can be written.
            String why = String.valueOf(root.getMessage());
            log.info("gateway connection {}: TLS failed ({}: {}); closing it", ctx.channel().remoteAddress(),
                    root.getClass().getSimpleName(), why.length() > 120 ? why.substring(0, 120) + "..." : why);
            ctx.close();
        } else {
            log.debug("gateway connection {} failed; closing it", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (loginTimer != null) {
            loginTimer.cancel(false);
        }
        if (rateLimit != null) {
            rateLimit = null;
            rateLimits.release(session.token());
        }
        super.channelInactive(ctx);
    }
}
