package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The project's error rule on the node's own entry points: a call that returns a future reports a
 * bad argument through it, as {@code BraidException(INVALID_ARGUMENT)} naming the argument, never
 * by throwing; a synchronous call throws that exception.
 */
class InvokeArgumentsTest {
    private static Braid node;

    @BeforeAll
    static void start() {
        node = Braid.builder().service("logic").ioThreads(1).inMemory(new InMemoryControlPlane("args-" + UUID.randomUUID()))
                .handle("echo", StringValue.parser(), (ctx, req) -> req).start();
    }

    @AfterAll
    static void close() {
        node.close();
    }

    @Test
    void badArgumentsOfInvokeFailTheFutureNamingTheArgument() {
        StringValue request = StringValue.of("x");
        assertInvalid("target", () -> node.invoke(null, "echo", "", request, StringValue.parser()));
        assertInvalid("target", () -> node.invoke(" ", "echo", "", request, StringValue.parser()));
        assertInvalid("method", () -> node.invoke("logic", null, "", request, StringValue.parser()));
        assertInvalid("method", () -> node.invoke("logic", "", "", request, StringValue.parser()));
        assertInvalid("token", () -> node.invoke("logic", "echo", null, request, StringValue.parser()));
        assertInvalid("request", () -> node.invoke("logic", "echo", "", (StringValue) null, StringValue.parser()));
        assertInvalid("responseParser", () -> node.invoke("logic", "echo", "", request, null));
        assertInvalid("options", () -> node.invoke("logic", "echo", "", request, StringValue.parser(), null));
        assertInvalid("target", () -> node.invoke("", "echo", "", request, StringValue.parser(), CallOptions.DEFAULT));
        assertInvalid("request", () -> node.invoke("logic", "echo", "", (byte[]) null));
        assertInvalid("method", () -> node.invoke("logic", null, "", new byte[0]));
    }

    @Test
    void goodArgumentsStillCall() throws Exception {
        assertThat(node.invoke("logic", "echo", "", StringValue.of("x"), StringValue.parser()).get(5, TimeUnit.SECONDS)
                .getValue()).isEqualTo("x");
    }

    @Test
    void aBadWeightThrowsInvalidArgument() {
        assertThatThrownBy(() -> node.weight(-1)).isInstanceOfSatisfying(BraidException.class,
                e -> assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT)).hasMessageContaining("weight");
    }

    private static void assertInvalid(String argument, Supplier<CompletableFuture<?>> call) {
        CompletableFuture<?> future;
        try {
            future = call.get();
        } catch (RuntimeException thrown) {
            throw new AssertionError("threw instead of failing the future: " + thrown, thrown);
        }
        assertThat(future).as("the future of a call with a bad %s", argument).isCompletedExceptionally();
        try {
            future.get(1, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOfSatisfying(BraidException.class,
                    b -> assertThat(b.code()).isEqualTo(Code.INVALID_ARGUMENT)).hasMessageContaining(argument);
            return;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("completed normally");
    }
}
