package io.braid.examples.chat;

import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.Channel;
import io.braid.api.ChannelOptions;
import io.braid.api.Code;
import io.braid.examples.NodeSettings;
import io.braid.examples.PlayerPusher;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.proto.ChatAck;
import io.braid.examples.proto.ChatLine;
import io.braid.examples.proto.PlayerPush;
import io.braid.gateway.Gateway;
import io.braid.gateway.SessionEvent;
import io.braid.runtime.Braid;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chat service: {@value #SAY} (a player's route through the gateway, with the player's token)
 * checks a line, names its sender after the token and publishes it on topic {@value #WORLD}. The
 * chat nodes read that topic through one shared channel ({@value #FANOUT_CHANNEL}: each line
 * reaches one chat node), and that node pushes the line to every player online with
 * braid-gateway's push ({@link PlayerPusher}). Who is online it learns from the gateways' session
 * events ({@link Gateway#SESSIONS_TOPIC}, a channel of its own): a token is online from BOUND or
 * RESUMED until its session ends (KICKED, CLOSED). Thread-safe.
 */
public final class ChatService implements AutoCloseable {
    public static final String SERVICE = "chat";
    public static final String SAY = "chat.say";
    public static final String WORLD = "chat.world";
    public static final String FANOUT_CHANNEL = "chat-fanout";
    public static final int MAX_LENGTH = 200;

    public static final List<Setting> SETTINGS = NodeSettings.ALL;

    private final AtomicLong published = new AtomicLong();
    /** Players online: token → its current session id. */
    private final Map<String, String> online = new ConcurrentHashMap<>();
    private volatile Braid braid;
    private PlayerPusher pusher;
    private Channel sessions;
    private Channel fanout;

    private ChatService() {
    }

    /** Starts a chat node from {@code builder} (plane and address already set). */
    public static ChatService start(Braid.Builder builder) {
        ChatService chat = new ChatService();
        chat.braid = builder.service(SERVICE)
                // Non-blocking: publishing returns a future, so the handler runs inline on the event loop.
                .handleAsync(SAY, ChatLine.parser(), chat::publish)
                .start();
        try {
            chat.pusher = new PlayerPusher(chat.braid);
            chat.sessions = chat.braid.topic(Gateway.SESSIONS_TOPIC)
                    .subscribe(chat.braid.node().id(), ChannelOptions.DEFAULT.withDurable(false));
            chat.sessions.onMessage(message -> chat.track(SessionEvent.parse(message.body())));
            chat.fanout = chat.braid.topic(WORLD).subscribe(FANOUT_CHANNEL);
            chat.fanout.onMessage(message -> chat.fanOut(ChatLine.parseFrom(message.body())));
        } catch (RuntimeException e) {
            chat.close();
            throw e;
        }
        return chat;
    }

    public Braid braid() {
        return braid;
    }

    public long published() {
        return published.get();
    }

    /** The chat lines pushed to players: what the gateways accepted, what failed. */
    public PlayerPusher pusher() {
        return pusher;
    }

    /** Players this node believes online now. */
    public int playersOnline() {
        return online.size();
    }

    @Override
    public void close() {
        if (fanout != null) {
            fanout.close();
        }
        if (sessions != null) {
            sessions.close();
        }
        braid.close();
    }

    private void track(SessionEvent event) {
        switch (event.type()) {
            case BOUND, RESUMED -> online.put(event.token(), event.sessionId());
            case KICKED, CLOSED -> online.remove(event.token(), event.sessionId());
        }
    }

    private void fanOut(ChatLine line) {
        PlayerPush.Builder push = PlayerPush.newBuilder().setChat(line);
        for (String token : online.keySet()) {
            pusher.push(token, push.clone());
        }
    }

    private CompletionStage<ChatAck> publish(CallContext ctx, ChatLine line) {
        String text = line.getText().strip();
        if (text.isEmpty()) {
            throw new BraidException(Code.INVALID_ARGUMENT, "an empty chat line");
        }
        if (text.length() > MAX_LENGTH) {
            text = text.substring(0, MAX_LENGTH);
        }
        ChatLine.Builder checked = line.toBuilder().setText(text)
                .setSentAtMillis(line.getSentAtMillis() != 0 ? line.getSentAtMillis() : System.currentTimeMillis());
        if (!ctx.token().isEmpty()) { // a player's line, through the gateway: it speaks for itself only
            checked.setFrom(GatewayService.player(ctx.token())).setVia(ctx.caller());
        }
        return braid.topic(WORLD).publish(checked.build().toByteArray()).thenApply(id -> {
            published.incrementAndGet();
            return ChatAck.newBuilder().setId(id).build();
        });
    }

    /** Runs one chat node until SIGTERM or, with --exit-on-stdin-eof, until stdin closes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(SERVICE, SETTINGS, args, System.getenv());
        ChatService chat = start(NodeSettings.builder(SERVICE, settings));
        System.out.printf("ready: chat %s at %s on %s%n", chat.braid().node().id(), chat.braid().node().address(),
                NodeSettings.plane(settings));
        System.out.flush();
        NodeSettings.runUntilStopped(settings, chat::close);
    }
}
