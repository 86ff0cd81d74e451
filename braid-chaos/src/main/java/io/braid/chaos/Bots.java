package io.braid.chaos;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.runtime.Braid;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Players: each bot owns one token and calls {@code play} on a gateway (stateless: any gateway)
 * again and again, one call at a time, each with a deadline. Every call goes to the history with
 * its start, end and outcome; a call that has not completed {@link #HUNG_AFTER} past its deadline
 * is recorded as hung and the bot moves on. An OK call's record carries what the bot was told:
 * which logic node served it and the player's counter after it.
 *
 * <p>The first {@code streamers} bots also hold a stream ({@code tell}) open to their player's
 * logic node (routed by token, like a call), sending a numbered message every
 * {@link #STREAM_PACE} and waiting for its answer; when a stream ends (or an answer takes longer
 * than the call deadline) the bot cancels it and opens the next. The nodes report every stream
 * message they handle; the bots count what they sent and how streams ended.
 */
final class Bots implements AutoCloseable {
    static final Duration HUNG_AFTER = Duration.ofSeconds(5);
    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(60);
    static final Duration STREAM_PACE = Duration.ofMillis(100);

    private final Braid client;
    private final History history;
    private final Duration deadline;
    private final List<String> tokens = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Per bot: end of its first successful call that started at or after {@link #markMicros}, or 0. */
    private final AtomicLongArray okSinceMark;
    private volatile long markMicros = Long.MAX_VALUE;

    Bots(Braid client, History history, int count, int streamers, Duration deadline) {
        this.client = client;
        this.history = history;
        this.deadline = deadline;
        this.okSinceMark = new AtomicLongArray(count);
        for (int i = 0; i < count; i++) {
            String token = "player-" + (i + 1);
            tokens.add(token);
            int bot = i;
            threads.add(Thread.ofVirtual().name("bot-" + token).start(() -> play(bot, token)));
            if (i < streamers) {
                threads.add(Thread.ofVirtual().name("streamer-" + token).start(() -> stream(token)));
            }
        }
    }

    List<String> tokens() {
        return tokens;
    }

    private void play(int bot, String token) {
        CallOptions options = CallOptions.DEFAULT.withTimeout(deadline);
        StringValue request = StringValue.of(token);
        while (running.get()) {
            long start = EventLog.nowMicros();
            AtomicBoolean recorded = new AtomicBoolean();
            CompletableFuture<StringValue> call = client.invoke(ChaosNames.GATEWAY, ChaosNames.PLAY, "", request,
                    StringValue.parser(), options);
            call.whenComplete((answer, failure) -> {
                long end = EventLog.nowMicros();
                if (recorded.compareAndSet(false, true)) {
                    Code code = failure == null ? Code.OK : BraidException.from(failure).code();
                    history.calls.add(told(token, start, end, code, answer));
                    if (code == Code.OK && start >= markMicros) {
                        okSinceMark.compareAndSet(bot, 0, end);
                    }
                }
            });
            try {
                call.get(deadline.plus(HUNG_AFTER).toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (recorded.compareAndSet(false, true)) {
                    history.calls.add(new History.BotCall(token, start, EventLog.nowMicros(),
                            deadline.toNanos() / 1_000, Code.DEADLINE_EXCEEDED, true));
                }
            } catch (Exception failed) {
                // recorded by whenComplete
            }
            LockSupport.parkNanos(PACE_NANOS); // a player's think time between actions
        }
    }

    /**
     * The call as the bot saw it: an OK answer is "node counter" (the logic node that served the
     * player and the player's counter after this call, see {@link LogicNodeMain}); an answer of
     * another shape is recorded without a counter, and the player-state check then skips it.
     */
    private History.BotCall told(String token, long start, long end, Code code, StringValue answer) {
        long deadlineMicros = deadline.toNanos() / 1_000;
        if (code != Code.OK || answer == null) {
            return new History.BotCall(token, start, end, deadlineMicros, code, false);
        }
        String text = answer.getValue();
        int space = text.lastIndexOf(' ');
        try {
            return new History.BotCall(token, start, end, deadlineMicros, code, false, text.substring(0, space),
                    Long.parseLong(text.substring(space + 1)));
        } catch (RuntimeException notNodeAndCounter) {
            return new History.BotCall(token, start, end, deadlineMicros, code, false);
        }
    }

    private void stream(String token) {
        CallOptions options = CallOptions.DEFAULT.withTimeout(Duration.ofHours(1));
        for (int k = 1; running.get(); k++) {
            ClientStream<StringValue, StringValue> stream;
            try {
                stream = client.client().stream(ChaosNames.LOGIC, ChaosNames.STREAM, token, StringValue.parser(), options);
            } catch (RuntimeException failed) {
                history.streamStats.ended(BraidException.from(failed).code());
                LockSupport.parkNanos(STREAM_PACE.toNanos());
                continue;
            }
            history.streamStats.opened.incrementAndGet();
            Code end = Code.OK;
            try {
                for (long seq = 1; running.get(); seq++) {
                    stream.send(StringValue.of(k + "/" + seq)).get(deadline.toMillis(), TimeUnit.MILLISECONDS);
                    history.streamStats.sent.incrementAndGet();
                    if (stream.receive().get(deadline.toMillis(), TimeUnit.MILLISECONDS) == null) {
                        break; // the node ended it OK
                    }
                    history.streamStats.answered.incrementAndGet();
                    LockSupport.parkNanos(STREAM_PACE.toNanos());
                }
            } catch (TimeoutException e) {
                end = Code.DEADLINE_EXCEEDED; // the bot gave up on this stream
            } catch (Exception failed) {
                end = BraidException.from(failed).code();
            } finally {
                stream.cancel();
            }
            if (running.get()) {
                history.streamStats.ended(end);
                LockSupport.parkNanos(STREAM_PACE.toNanos());
            }
        }
    }

    /** From now on, watch for every bot's first successful call that starts at or after {@code micros}. */
    void markRecoveryFrom(long micros) {
        for (int i = 0; i < okSinceMark.length(); i++) {
            okSinceMark.set(i, 0);
        }
        markMicros = micros;
    }

    /** The end of the last bot's first success since the mark, or 0 while some bot has none yet. */
    long allOkSinceMark() {
        long last = 0;
        for (int i = 0; i < okSinceMark.length(); i++) {
            long at = okSinceMark.get(i);
            if (at == 0) {
                return 0;
            }
            last = Math.max(last, at);
        }
        return last;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(deadline.plus(HUNG_AFTER).plusSeconds(1).toMillis());
        }
    }
}
