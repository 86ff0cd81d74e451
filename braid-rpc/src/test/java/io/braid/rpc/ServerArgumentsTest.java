package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.Parser;
import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.rpc.internal.RpcServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The error rule of {@link io.braid.api.Server} (registration returns synchronously): a bad
 * argument throws {@code BraidException(INVALID_ARGUMENT)} naming it, on every kind of handler,
 * and leaves the server as it was.
 */
class ServerArgumentsTest {
    private final RpcServer server = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1).build();

    @AfterEach
    void tearDown() {
        server.close();
    }

    @Test
    void everyRegistrationRefusesABadArgumentNamingIt() {
        assertRefused(() -> server.handle(null, StringValue.parser(), (ctx, req) -> req), "method");
        assertRefused(() -> server.handle(" ", StringValue.parser(), (ctx, req) -> req), "method");
        assertRefused(() -> server.handle("m", (Parser<StringValue>) null, (ctx, req) -> req), "requestParser");
        assertRefused(() -> server.handle("m", StringValue.parser(), null), "handler");
        assertRefused(() -> server.handleAsync("", StringValue.parser(), (ctx, req) -> null), "method");
        assertRefused(() -> server.handleAsync("m", (Parser<StringValue>) null, (ctx, req) -> null), "requestParser");
        assertRefused(() -> server.handleAsync("m", StringValue.parser(), null), "handler");
        assertRefused(() -> server.handleStream(null, StringValue.parser(), (ctx, in, out) -> { }), "method");
        assertRefused(() -> server.handleStream("m", (Parser<StringValue>) null, (ctx, in, out) -> { }), "requestParser");
        assertRefused(() -> server.handleStream("m", StringValue.parser(), null), "handler");
        assertRefused(() -> server.handleBytes("\n", (ctx, req) -> req), "method");
        assertRefused(() -> server.handleBytes("m", null), "handler");
        assertThat(server.methods()).isEmpty();

        server.handle("twice", StringValue.parser(), (ctx, req) -> req);
        assertRefused(() -> server.handleBytes("twice", (ctx, req) -> req), "twice");
        assertThat(server.methods()).containsExactly("twice");
    }

    private static void assertRefused(Runnable registration, String argument) {
        Throwable failure = catchThrowable(registration::run);
        assertThat(failure).as("registration with a bad %s", argument).isInstanceOfSatisfying(BraidException.class, e -> {
            assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains(argument);
        });
    }
}
