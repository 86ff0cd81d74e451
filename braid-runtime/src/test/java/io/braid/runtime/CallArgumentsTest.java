package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The error rule of {@link io.braid.api.Client} through a whole node: its interceptors (the
 * monitoring one runs first) and a real link cache, which refuses a token longer than it keeps.
 * A bad argument never throws and never leaves a raw IllegalArgumentException in the future.
 */
class CallArgumentsTest {
    private static final String TOO_LONG = "p".repeat(513);

    @Test
    void badTokensFailTheFutureWithInvalidArgumentNamingTheToken() throws Exception {
        InMemoryControlPlane plane = new InMemoryControlPlane("arguments-" + UUID.randomUUID());
        try (Braid logic = Braid.builder().service("logic").ioThreads(1).inMemory(plane)
                     .handle("who", StringValue.parser(), (ctx, req) -> StringValue.of("logic"))
                     .handleStream("play", StringValue.parser(), (ctx, in, out) -> { })
                     .start();
             Braid gateway = Braid.builder().service("gateway").ioThreads(1).inMemory(plane).start()) {
            assertInvalid(() -> gateway.invoke("logic", "who", TOO_LONG, StringValue.of(""), StringValue.parser()));
            assertInvalid(() -> gateway.invoke("logic", "who", " ", StringValue.of(""), StringValue.parser()));
            assertInvalid(() -> gateway.invoke("logic", "who", TOO_LONG, new byte[0]));
            assertInvalid(() -> gateway.stream("logic", "play", TOO_LONG, StringValue.parser()).done());

            // The same node serves a good call right after.
            assertThat(gateway.invoke("logic", "who", "player-1", StringValue.of(""), StringValue.parser())
                    .get(5, TimeUnit.SECONDS).getValue()).isEqualTo("logic");
        }
    }

    private static void assertInvalid(Supplier<CompletableFuture<?>> call) {
        AtomicReference<CompletableFuture<?>> future = new AtomicReference<>();
        assertThatCode(() -> future.set(call.get())).as("a bad token must not throw").doesNotThrowAnyException();
        Throwable failure = catchThrowable(() -> future.get().get(5, TimeUnit.SECONDS));
        assertThat(failure).as("the call should fail").isNotNull();
        assertThat(failure.getCause()).as("what the future holds").isInstanceOfSatisfying(BraidException.class, e -> {
            assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("token");
        });
    }
}
