package io.braid.examples.bots;

import com.google.protobuf.InvalidProtocolBufferException;
import io.braid.examples.JsonFrames;
import io.braid.examples.proto.ClientFrame;
import io.braid.examples.proto.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A bot's WebSocket to the gateway, as a browser would hold it: it sends a {@link ClientFrame},
 * waits for the {@link ServerFrame} with the same {@code seq}, and hands every push (chat, reward)
 * to a listener. One request at a time; thread-safe for that use.
 */
final class BotSocket implements WebSocket.Listener, AutoCloseable {
    private final Map<Long, CompletableFuture<ServerFrame>> pending = new ConcurrentHashMap<>();
    private final Consumer<ServerFrame> pushes;
    private final StringBuilder partial = new StringBuilder();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private WebSocket socket;
    private long seq;

    private BotSocket(Consumer<ServerFrame> pushes) {
        this.pushes = pushes;
    }

    static BotSocket connect(HttpClient http, URI gateway, Duration timeout, Consumer<ServerFrame> pushes) {
        BotSocket bot = new BotSocket(pushes);
        bot.socket = http.newWebSocketBuilder().connectTimeout(timeout).buildAsync(gateway, bot)
                .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
        return bot;
    }

    /**
     * Sends {@code frame} (its seq is set here) and waits for the answer.
     *
     * @throws java.util.concurrent.CompletionException when the socket fails or no answer comes in time
     */
    ServerFrame call(ClientFrame frame, Duration timeout) {
        long id = ++seq;
        CompletableFuture<ServerFrame> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            socket.sendText(JsonFrames.print(frame.toBuilder().setSeq(id)), true).join();
            return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).join();
        } finally {
            pending.remove(id);
        }
    }

    boolean isOpen() {
        return !closed.isDone();
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            String text = partial.toString();
            partial.setLength(0);
            dispatch(text);
        }
        webSocket.request(1);
        return null;
    }

    private void dispatch(String text) {
        ServerFrame frame;
        try {
            frame = JsonFrames.serverFrame(text);
        } catch (InvalidProtocolBufferException e) {
            return; // not ours to understand; a real client would log it
        }
        CompletableFuture<ServerFrame> answer = frame.getSeq() == 0 ? null : pending.get(frame.getSeq());
        if (answer != null) {
            answer.complete(frame);
        } else {
            pushes.accept(frame);
        }
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        failPending(new IllegalStateException("socket closed by the gateway: " + statusCode + " " + reason));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        failPending(error);
    }

    private void failPending(Throwable cause) {
        closed.complete(null);
        pending.values().forEach(answer -> answer.completeExceptionally(cause));
    }

    @Override
    public void close() {
        if (socket != null && !socket.isOutputClosed()) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(2, TimeUnit.SECONDS)
                    .exceptionally(failure -> null).join();
        }
        if (socket != null) {
            socket.abort();
        }
        closed.complete(null);
    }
}
