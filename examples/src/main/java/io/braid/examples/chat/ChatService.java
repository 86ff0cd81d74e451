package io.braid.examples.chat;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.examples.proto.ChatAck;
import io.braid.examples.proto.ChatLine;
import io.braid.runtime.Braid;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chat service: {@value #SAY} (stateless, any chat node will do) checks a line and publishes it
 * on topic {@value #WORLD}. Every gateway reads that topic through a channel of its own, so every
 * gateway gets every line and pushes it to its players. Thread-safe.
 */
public final class ChatService implements AutoCloseable {
    public static final String SERVICE = "chat";
    public static final String SAY = "chat.say";
    public static final String WORLD = "chat.world";
    public static final int MAX_LENGTH = 200;

    public static final List<Setting> SETTINGS = NodeSettings.ALL;

    private final AtomicLong published = new AtomicLong();
    private volatile Braid braid;

    private ChatService() {
    }

    /** Starts a chat node from {@code builder} (plane and address already set). */
    public static ChatService start(Braid.Builder builder) {
        ChatService chat = new ChatService();
        chat.braid = builder.service(SERVICE)
                // Non-blocking: publishing returns a future, so the handler runs inline on the event loop.
                .handleAsync(SAY, ChatLine.parser(), (ctx, line) -> chat.publish(line))
                .start();
        return chat;
    }

    public Braid braid() {
        return braid;
    }

    public long published() {
        return published.get();
    }

    @Override
    public void close() {
        braid.close();
    }

    private java.util.concurrent.CompletionStage<ChatAck> publish(ChatLine line) {
        String text = line.getText().strip();
        if (text.isEmpty()) {
            throw new BraidException(Code.INVALID_ARGUMENT, "an empty chat line");
        }
        if (text.length() > MAX_LENGTH) {
            text = text.substring(0, MAX_LENGTH);
        }
        ChatLine checked = line.toBuilder().setText(text)
                .setSentAtMillis(line.getSentAtMillis() != 0 ? line.getSentAtMillis() : System.currentTimeMillis())
                .build();
        return braid.topic(WORLD).publish(checked.toByteArray()).thenApply(id -> {
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
