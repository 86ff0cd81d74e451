package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallOptions;
import io.braid.api.ClientStream;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The error rule of {@link io.braid.api.Client}, on every entry point of {@link RpcClient}: a bad
 * argument never throws; the call's future (for a stream: its futures) fails at once with
 * {@code BraidException(INVALID_ARGUMENT)} whose message names the argument. The same with the
 * default interceptor chain and with interceptors of the user's.
 */
class ClientArgumentsTest {
    private static final String SERVICE = TestCluster.SERVICE;
    private static final StringValue REQUEST = StringValue.of("x");
    private static final byte[] BYTES = new byte[0];

    private final TestCluster cluster = new TestCluster();
    private RpcClient client;

    static Stream<String> chains() {
        return Stream.of("default chain", "user interceptor");
    }

    @BeforeEach
    void startServer() {
        cluster.server(s -> {
            s.handle("echo", StringValue.parser(), (ctx, req) -> req);
            s.handleStream("play", StringValue.parser(), (ctx, in, out) -> { });
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        cluster.close();
    }

    private void clientWith(String chain) {
        client = chain.equals("default chain")
                ? cluster.client()
                : cluster.client(b -> b.intercept((call, next) -> next.proceed(call)));
    }

    @ParameterizedTest
    @MethodSource("chains")
    void invokeWithAMessage(String chain) {
        clientWith(chain);
        CallOptions o = CallOptions.DEFAULT;
        assertInvalid(() -> client.invoke(null, "echo", "", REQUEST, StringValue.parser(), o), "target");
        assertInvalid(() -> client.invoke("", "echo", "", REQUEST, StringValue.parser(), o), "target");
        assertInvalid(() -> client.invoke(" ", "echo", "", REQUEST, StringValue.parser(), o), "target");
        assertInvalid(() -> client.invoke(SERVICE, null, "", REQUEST, StringValue.parser(), o), "method");
        assertInvalid(() -> client.invoke(SERVICE, "\t", "", REQUEST, StringValue.parser(), o), "method");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "  ", REQUEST, StringValue.parser(), o), "token");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", null, StringValue.parser(), o), "request");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", REQUEST, null, o), "responseParser");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", REQUEST, StringValue.parser(), null), "options");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", REQUEST, StringValue.parser(),
                o.withContentType("text/yaml")), "contentType");
        // The overload without options.
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", null, StringValue.parser()), "request");
        assertInvalid(() -> client.invoke(SERVICE, "", "", REQUEST, StringValue.parser()), "method");
        // A good call still works on the same client.
        assertThat(client.invoke(SERVICE, "echo", null, REQUEST, StringValue.parser()).join()).isEqualTo(REQUEST);
    }

    @ParameterizedTest
    @MethodSource("chains")
    void invokeWithBytes(String chain) {
        clientWith(chain);
        CallOptions o = CallOptions.DEFAULT;
        assertInvalid(() -> client.invoke(null, "echo", "", BYTES, o), "target");
        assertInvalid(() -> client.invoke("", "echo", "", BYTES, o), "target");
        assertInvalid(() -> client.invoke(SERVICE, " ", "", BYTES, o), "method");
        assertInvalid(() -> client.invoke(SERVICE, "echo", " ", BYTES, o), "token");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", (byte[]) null, o), "request");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", BYTES, null), "options");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", BYTES, o.withContentType("text/yaml")), "contentType");
        // The overload without options.
        assertInvalid(() -> client.invoke("", "echo", "", BYTES), "target");
        assertInvalid(() -> client.invoke(SERVICE, "echo", "", (byte[]) null), "request");
    }

    @ParameterizedTest
    @MethodSource("chains")
    void stream(String chain) {
        clientWith(chain);
        CallOptions o = CallOptions.DEFAULT;
        assertInvalidStream(() -> client.stream(null, "play", "", StringValue.parser(), o), "target");
        assertInvalidStream(() -> client.stream(" ", "play", "", StringValue.parser(), o), "target");
        assertInvalidStream(() -> client.stream(SERVICE, null, "", StringValue.parser(), o), "method");
        assertInvalidStream(() -> client.stream(SERVICE, "", "", StringValue.parser(), o), "method");
        assertInvalidStream(() -> client.stream(SERVICE, "play", " ", StringValue.parser(), o), "token");
        assertInvalidStream(() -> client.stream(SERVICE, "play", "", null, o), "responseParser");
        assertInvalidStream(() -> client.stream(SERVICE, "play", "", StringValue.parser(), null), "options");
        assertInvalidStream(() -> client.stream(SERVICE, "play", "", StringValue.parser(),
                o.withContentType("text/yaml")), "contentType");
    }

    /** The call returns normally, its future has already failed INVALID_ARGUMENT naming {@code argument}. */
    private static void assertInvalid(Supplier<CompletableFuture<?>> call, String argument) {
        AtomicReference<CompletableFuture<?>> future = new AtomicReference<>();
        assertThatCode(() -> future.set(call.get())).as("a bad %s must not throw", argument).doesNotThrowAnyException();
        assertFailedAtOnce(future.get(), argument);
    }

    private static void assertInvalidStream(Supplier<ClientStream<StringValue, StringValue>> open, String argument) {
        AtomicReference<ClientStream<StringValue, StringValue>> stream = new AtomicReference<>();
        assertThatCode(() -> stream.set(open.get())).as("a bad %s must not throw", argument).doesNotThrowAnyException();
        assertFailedAtOnce(stream.get().done(), argument);
        assertFailedAtOnce(stream.get().receive(), argument);
        assertFailedAtOnce(stream.get().send(REQUEST), argument);
        assertThatCode(() -> {
            stream.get().halfClose();
            stream.get().cancel();
        }).doesNotThrowAnyException();
    }

    private static void assertFailedAtOnce(CompletableFuture<?> future, String argument) {
        assertThat(future).as("the future of a bad %s", argument).isCompletedExceptionally();
        Throwable failure = catchThrowable(future::join);
        assertThat(failure).isInstanceOf(CompletionException.class);
        assertThat(failure.getCause()).as("what the future of a bad %s holds", argument)
                .isInstanceOfSatisfying(BraidException.class, e -> {
                    assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains(argument);
                });
    }
}
