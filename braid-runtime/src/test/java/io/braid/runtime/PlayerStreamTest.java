package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.api.PlayerStates;
import io.braid.testkit.Await;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Player streams on real nodes of the in-memory control plane: each message of a stream opened
 * with a player's token runs in the player's lane, one at a time with its calls, and gets its
 * state; a handler that throws ends the stream; a player handed over ends its stream here, and the
 * stream opened again at the new owner finds the state.
 */
class PlayerStreamTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));

    /** A counter and how many pieces of its player's work run now (the lane keeps it at most 1). */
    static final class Count {
        long value;
        int inside;
    }

    private final InMemoryControlPlane plane = new InMemoryControlPlane("streams-" + System.nanoTime());
    private final List<Braid> nodes = new ArrayList<>();
    private final AtomicInteger overlaps = new AtomicInteger();

    @AfterEach
    void closeNodes() {
        nodes.reversed().forEach(Braid::close);
    }

    private Int64Value add(Count count) {
        if (++count.inside != 1) {
            overlaps.incrementAndGet();
        }
        try {
            long read = count.value;
            Thread.yield(); // a lost update shows if two pieces of one player ever overlap
            count.value = read + 1;
            return Int64Value.of(count.value);
        } finally {
            count.inside--;
        }
    }

    private Braid logic(String id) {
        Players<Count> players = Players.of(new PlayerStates<Count>() {
            @Override
            public Count activate(String token, Activation how, byte[] snapshot) {
                Count count = new Count();
                count.value = how == Activation.FRESH ? 0 : ByteBuffer.wrap(snapshot).getLong();
                return count;
            }

            @Override
            public byte[] snapshot(Count state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state.value).array();
            }

            @Override
            public void deactivate(Count state, Deactivation why) {
            }
        }).handle("click", StringValue.parser(), (player, ctx, req) -> add(player.state()))
                .stream("play", StringValue.parser(), (player, ctx, message) -> {
                    if (message.getValue().equals("boom")) {
                        throw new BraidException(Code.FAILED_PRECONDITION, "no such move");
                    }
                    return message.getValue().equals("quiet") ? null : add(player.state());
                });
        Braid node = Braid.builder().service("logic").nodeId(id).inMemory(plane).ioThreads(1).players(players).start();
        nodes.add(node);
        return node;
    }

    private Braid gateway() {
        Braid node = Braid.builder().service("gateway").nodeId("gateway-1").inMemory(plane).ioThreads(1).start();
        nodes.add(node);
        Await.until(WAIT, "the gateway sees a logic node", () -> !node.discover().nodes("logic").isEmpty());
        return node;
    }

    private static ClientStream<StringValue, Int64Value> open(Braid gateway, String token) {
        return gateway.client().stream("logic", "play", token, Int64Value.parser(),
                CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(30)));
    }

    private static long click(Braid gateway, String token) {
        return gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join()
                .getValue();
    }

    @Test
    void streamMessagesAndCallsOfOnePlayerRunOneAtATimeInItsLaneAndEndExact() throws Exception {
        logic("logic-a");
        Braid gateway = gateway();
        ClientStream<StringValue, Int64Value> stream = open(gateway, "player-1");
        Thread clicker = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 200; i++) {
                click(gateway, "player-1");
            }
        });
        long last = 0;
        for (int i = 0; i < 200; i++) {
            stream.send(StringValue.of("add")).get(5, TimeUnit.SECONDS);
            long answer = stream.receive().get(5, TimeUnit.SECONDS).getValue();
            assertThat(answer).as("each answer counts everything before it").isGreaterThan(last);
            last = answer;
        }
        stream.send(StringValue.of("quiet")).get(5, TimeUnit.SECONDS); // answered with nothing
        clicker.join(TimeUnit.SECONDS.toMillis(20));
        stream.halfClose();
        stream.done().get(5, TimeUnit.SECONDS);

        assertThat(click(gateway, "player-1")).as("200 stream messages and 200 calls, none lost").isEqualTo(401);
        assertThat(overlaps).as("pieces of the player's work that overlapped").hasValue(0);
    }

    @Test
    void aMessageWhoseHandlerThrowsEndsTheStreamWithItsCodeAndThePlayerStays() throws Exception {
        logic("logic-a");
        Braid gateway = gateway();
        ClientStream<StringValue, Int64Value> stream = open(gateway, "player-1");
        stream.send(StringValue.of("add")).get(5, TimeUnit.SECONDS);
        assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo(1);
        stream.send(StringValue.of("boom"));
        assertThatThrownBy(() -> stream.done().get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(BraidException.class).hasMessageContaining("no such move")
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.FAILED_PRECONDITION);
        assertThat(click(gateway, "player-1")).isEqualTo(2);
    }

    @Test
    void aPlayerHandedOverEndsItsStreamHereAndTheStreamOpenedAgainFindsItsState() throws Exception {
        Braid a = logic("logic-a");
        Braid gateway = gateway();
        ClientStream<StringValue, Int64Value> stream = open(gateway, "player-1");
        for (int i = 1; i <= 5; i++) {
            stream.send(StringValue.of("add")).get(5, TimeUnit.SECONDS);
            assertThat(stream.receive().get(5, TimeUnit.SECONDS).getValue()).isEqualTo(i);
        }
        logic("logic-b");
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);

        a.drain().get(20, TimeUnit.SECONDS);
        assertThatThrownBy(() -> stream.done().get(5, TimeUnit.SECONDS)).as("the stream at the old owner ended")
                .isInstanceOf(ExecutionException.class);

        ClientStream<StringValue, Int64Value> again = open(gateway, "player-1");
        long[] answer = new long[1];
        Await.until(WAIT, "the stream opened again is served", () -> {
            try {
                again.send(StringValue.of("add")).get(5, TimeUnit.SECONDS);
                answer[0] = again.receive().get(5, TimeUnit.SECONDS).getValue();
                return true;
            } catch (ExecutionException | CompletionException | java.util.concurrent.TimeoutException
                     refusedWhileTheMoveSettles) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        assertThat(answer[0]).as("its five moves came along").isEqualTo(6);
        again.halfClose();
    }
}
