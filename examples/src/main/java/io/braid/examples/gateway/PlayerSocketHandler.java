package io.braid.examples.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.examples.JsonFrames;
import io.braid.examples.chat.ChatService;
import io.braid.examples.logic.LogicService;
import io.braid.examples.proto.ActReply;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.ChatAck;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.ClientFrame;
import io.braid.examples.proto.Failure;
import io.braid.examples.proto.LoginReply;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutReply;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.ServerFrame;
import io.braid.runtime.Braid;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One player's socket: reads {@link ClientFrame}s and answers each with a {@link ServerFrame} of the
 * same {@code seq}. Nothing here blocks: every call to another service is chained on its future,
 * whose completion writes the answer. One instance per connection.
 */
final class PlayerSocketHandler extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    private static final Logger log = LoggerFactory.getLogger(PlayerSocketHandler.class);
    private static final Pattern PLAYER_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,40}");
    private static final CallOptions CALL = CallOptions.DEFAULT.withTimeout(GatewayService.CALL_TIMEOUT);

    private final GatewayService gateway;
    /** The player logged in on this socket; written on the event loop, read by completions too. */
    private volatile PlayerSession session;

    PlayerSocketHandler(GatewayService gateway) {
        this.gateway = gateway;
    }

    /** The token of a player: the name is the identity, so a reconnect finds the same logic node. */
    static String token(String player) {
        return "player:" + player;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
        Channel channel = ctx.channel();
        ClientFrame in;
        try {
            in = JsonFrames.clientFrame(frame.text());
        } catch (InvalidProtocolBufferException e) {
            fail(channel, 0, Code.INVALID_ARGUMENT, "not a client frame: " + e.getMessage());
            return;
        }
        long seq = in.getSeq();
        switch (in.getBodyCase()) {
            case LOGIN -> login(channel, seq, in.getLogin());
            case ACT -> act(channel, seq, in.getAct());
            case SAY -> say(channel, seq, in.getSay());
            case LOGOUT -> logout(channel, seq);
            case BODY_NOT_SET -> fail(channel, seq, Code.INVALID_ARGUMENT, "empty frame");
        }
    }

    private void login(Channel channel, long seq, LoginRequest request) {
        if (!PLAYER_NAME.matcher(request.getPlayer()).matches()) {
            fail(channel, seq, Code.INVALID_ARGUMENT, "a player name is 1 to 40 letters, digits, '_', '.' or '-'");
            return;
        }
        if (session != null) {
            fail(channel, seq, Code.FAILED_PRECONDITION, "already logged in as " + session.player() + "; log out first");
            return;
        }
        PlayerSession next = new PlayerSession(token(request.getPlayer()), request.getPlayer(), channel);
        PlayerSession replaced = gateway.sessions().put(next);
        if (replaced != null && replaced.channel() != channel) {
            replaced.send(failure(0, Code.FAILED_PRECONDITION, "logged in elsewhere"));
            replaced.channel().close();
        }
        session = next;
        Braid braid = gateway.braid();
        // Server push: the token now leads to this gateway, so a logic node reaches the player by
        // invoking the gateway service with it.
        braid.linkCache().relinkAsync(next.token(), braid.node())
                .thenCompose(linked -> braid.invoke(LogicService.SERVICE, LogicService.LOGIN, next.token(),
                        request.toBuilder().setGateway(braid.node().id()).build(), LoginReply.parser(), CALL))
                .whenComplete((reply, failure) -> {
                    if (failure != null) {
                        gateway.sessions().remove(next);
                        session = null;
                        fail(channel, seq, failure);
                    } else {
                        reply(channel, ServerFrame.newBuilder().setSeq(seq).setLogin(reply).build());
                    }
                });
    }

    private void act(Channel channel, long seq, ActRequest request) {
        PlayerSession player = loggedIn(channel, seq);
        if (player != null) {
            answer(channel, seq, gateway.braid().invoke(LogicService.SERVICE, LogicService.ACT, player.token(), request,
                    ActReply.parser(), CALL), (frame, reply) -> frame.setAct(reply));
        }
    }

    private void say(Channel channel, long seq, ChatLine request) {
        PlayerSession player = loggedIn(channel, seq);
        if (player != null) {
            ChatLine line = request.toBuilder().setFrom(player.player()).setVia(gateway.nodeId())
                    .setSentAtMillis(System.currentTimeMillis()).build();
            // Stateless: no token, any chat node will do.
            answer(channel, seq, gateway.braid().invoke(ChatService.SERVICE, ChatService.SAY, "", line, ChatAck.parser(), CALL),
                    (frame, ack) -> frame.setSaid(ack));
        }
    }

    private void logout(Channel channel, long seq) {
        PlayerSession player = loggedIn(channel, seq);
        if (player != null) {
            session = null;
            gateway.sessions().remove(player);
            answer(channel, seq, logoutCall(player), (frame, reply) -> frame.setLogout(reply));
        }
    }

    private CompletableFuture<LogoutReply> logoutCall(PlayerSession player) {
        return gateway.braid().invoke(LogicService.SERVICE, LogicService.LOGOUT, player.token(),
                LogoutRequest.getDefaultInstance(), LogoutReply.parser(), CALL);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        PlayerSession player = session;
        session = null;
        // A socket that closed without a logout logs the player out, unless the player is already
        // back on another socket.
        if (player != null && gateway.sessions().remove(player)) {
            logoutCall(player).exceptionally(failure -> null);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("player socket {} failed; closing it", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }

    private PlayerSession loggedIn(Channel channel, long seq) {
        PlayerSession player = session;
        if (player == null) {
            fail(channel, seq, Code.FAILED_PRECONDITION, "log in first");
        }
        return player;
    }

    private interface FrameSetter<R> {
        void set(ServerFrame.Builder frame, R reply);
    }

    private static <R> void answer(Channel channel, long seq, CompletableFuture<R> call, FrameSetter<R> setter) {
        call.whenComplete((reply, failure) -> {
            if (failure != null) {
                fail(channel, seq, failure);
            } else {
                ServerFrame.Builder frame = ServerFrame.newBuilder().setSeq(seq);
                setter.set(frame, reply);
                reply(channel, frame.build());
            }
        });
    }

    private static void reply(Channel channel, ServerFrame frame) {
        channel.writeAndFlush(new TextWebSocketFrame(JsonFrames.print(frame)));
    }

    private static void fail(Channel channel, long seq, Throwable failure) {
        BraidException e = BraidException.from(failure);
        fail(channel, seq, e.code(), e.getMessage());
    }

    private static void fail(Channel channel, long seq, Code code, String message) {
        reply(channel, failure(seq, code, message));
    }

    private static ServerFrame failure(long seq, Code code, String message) {
        return ServerFrame.newBuilder().setSeq(seq)
                .setError(Failure.newBuilder().setCode(code.name()).setMessage(String.valueOf(message))).build();
    }
}
