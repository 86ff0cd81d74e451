package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.ServerFrame;
import java.util.function.Function;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Login, call and reply over each front end; refused routes and logins; frames out of order. */
class GatewayRoundTripTest {
    enum FrontEnd {
        WEBSOCKET_BINARY(node -> TestClient.webSocket(node.ws(), false)),
        WEBSOCKET_TEXT(node -> TestClient.webSocket(node.ws(), true)),
        TCP(node -> TestClient.tcp(node.tcp()));

        final Function<GatewayFixture.GatewayNode, TestClient> connect;

        FrontEnd(Function<GatewayFixture.GatewayNode, TestClient> connect) {
            this.connect = connect;
        }
    }

    private final GatewayFixture cluster = GatewayFixture.inMemory();
    private final GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1");

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    @ParameterizedTest
    @EnumSource(FrontEnd.class)
    void loginBindsTheTokenAndACallReachesTheLogicNodeWithIt(FrontEnd frontEnd) throws Exception {
        try (TestClient player = frontEnd.connect.apply(gateway)) {
            ServerFrame login = player.login("player:ann");
            assertThat(login.hasLoginOk()).as("%s", login).isTrue();
            assertThat(login.getLoginOk().getToken()).isEqualTo("player:ann");
            assertThat(login.getLoginOk().getSessionId()).isNotBlank();
            assertThat(cluster.boundTo("player:ann")).isEqualTo("gateway-1");

            Reply reply = player.call("logic.player.act", "jump");
            assertThat(reply.getCode()).isEqualTo(Code.OK.value());
            assertThat(TestClient.utf8(reply.getPayload())).isEqualTo("acted:player:ann:jump");

            Reply failed = player.call("logic.player.fail", "x");
            assertThat(failed.getCode()).isEqualTo(Code.FAILED_PRECONDITION.value());
            assertThat(failed.getMessage()).contains("no such move");

            player.ping(42);
            assertThat(player.await(ServerFrame::hasPong, "a pong").getPong().getNonce()).isEqualTo(42);
        }
    }

    @Test
    void aRouteNotInTheTableIsRefusedWithNotFoundAndTheSessionGoesOn() throws Exception {
        try (TestClient player = TestClient.tcp(gateway.tcp())) {
            player.login("player:bob");
            Reply refused = player.call("logic.admin.wipe", "all");
            assertThat(refused.getCode()).isEqualTo(Code.NOT_FOUND.value());
            assertThat(refused.getMessage()).contains("logic.admin.wipe").contains("route table");
            assertThat(player.call("logic.player.act", "ok").getCode()).isEqualTo(Code.OK.value());
        }
    }

    @Test
    void theDefaultRouteTableRefusesEverything() throws Exception {
        GatewayFixture.GatewayNode closed = cluster.gateway("gateway-2", builder -> builder.routes(RouteTable.none()));
        try (TestClient player = TestClient.tcp(closed.tcp())) {
            player.login("player:cy");
            assertThat(player.call("logic.player.act", "x").getCode()).isEqualTo(Code.NOT_FOUND.value());
        }
    }

    @Test
    void wrongCredentialsGetUnauthenticatedAndTheConnectionCloses() throws Exception {
        try (TestClient player = TestClient.webSocket(gateway.ws(), false)) {
            ServerFrame answer = player.login("guess");
            assertThat(answer.hasError()).as("%s", answer).isTrue();
            assertThat(answer.getError().getCode()).isEqualTo(Code.UNAUTHENTICATED.value());
            assertThat(answer.getError().getMessage()).contains("wrong credentials");
            player.awaitClosed();
        }
        assertThat(cluster.boundTo("guess")).isNull();
        assertThat(cluster.events).isEmpty();
    }

    @Test
    void aCallBeforeLoginGetsAnErrorAndTheConnectionMayStillLogIn() throws Exception {
        try (TestClient player = TestClient.tcp(gateway.tcp())) {
            player.send(io.braid.gateway.proto.ClientFrame.newBuilder().setCall(io.braid.gateway.proto.Call.newBuilder()
                    .setSeq(1).setRoute("logic.player.act")).build());
            ServerFrame error = player.await(ServerFrame::hasError, "an error");
            assertThat(error.getError().getCode()).isEqualTo(Code.FAILED_PRECONDITION.value());
            assertThat(error.getError().getMessage()).contains("before login");
            assertThat(player.login("player:dee").hasLoginOk()).isTrue();
            assertThat(player.call("logic.player.act", "late").getCode()).isEqualTo(Code.OK.value());
        }
    }

    @Test
    void aSecondLoginOnOneConnectionIsRefused() throws Exception {
        try (TestClient player = TestClient.tcp(gateway.tcp())) {
            player.login("player:eve");
            player.send(io.braid.gateway.proto.ClientFrame.newBuilder().setLogin(io.braid.gateway.proto.Login
                    .newBuilder()).build());
            ServerFrame error = player.await(ServerFrame::hasError, "an error");
            assertThat(error.getError().getCode()).isEqualTo(Code.FAILED_PRECONDITION.value());
            assertThat(player.call("logic.player.act", "still").getCode()).isEqualTo(Code.OK.value());
        }
    }

    @Test
    void anEmptyFrameGetsInvalidArgumentAndTheConnectionStays() {
        try (TestClient player = TestClient.tcp(gateway.tcp())) {
            player.send(io.braid.gateway.proto.ClientFrame.getDefaultInstance()); // a zero-length TCP frame
            ServerFrame error = player.await(ServerFrame::hasError, "an error");
            assertThat(error.getError().getCode()).isEqualTo(Code.INVALID_ARGUMENT.value());
            assertThat(error.getError().getMessage()).contains("empty client frame");
            assertThat(player.login("player:hal").hasLoginOk()).isTrue();
        }
    }

    @Test
    void aWebSocketHandshakeOnAnotherPathGets404() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        try (http) {
            java.net.http.HttpResponse<String> response = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + gateway.ws().getPort() + "/other")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(404);
            assertThat(response.body()).contains("/ws");
        }
    }

    @Test
    void aWebSocketFromAnOriginNotAllowedIsRefused() {
        GatewayFixture.GatewayNode strict = cluster.gateway("gateway-3",
                builder -> builder.allowedOrigins(java.util.Set.of("https://game.example")));
        InetSocketAddress ws = strict.ws();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TestClient.webSocket(ws, false, "https://evil.example"))
                .hasStackTraceContaining("403");
        try (TestClient allowed = TestClient.webSocket(ws, false, "https://game.example")) {
            assertThat(allowed.login("player:fay").hasLoginOk()).isTrue();
        }
    }

    @Test
    void aLogoutUnbindsAndFiresOneClosed() throws Exception {
        TestClient player = TestClient.tcp(gateway.tcp());
        player.login("player:gus");
        player.close();
        io.braid.testkit.Await.until(TestClient.WAIT, "the binding to go",
                () -> cluster.boundTo("player:gus") == null);
        io.braid.testkit.Await.until(TestClient.WAIT, "bound and closed events",
                () -> cluster.eventsOf("player:gus").size() == 2);
        assertThat(cluster.eventsOf("player:gus")).extracting(SessionEvent::type)
                .containsExactly(SessionEvent.Type.BOUND, SessionEvent.Type.CLOSED);
        assertThat(gateway.gateway().sessionCount()).isZero();
    }
}
