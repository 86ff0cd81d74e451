package io.braid.examples.logic;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.braid.api.CallOptions;
import io.braid.examples.PlayerPusher;
import io.braid.examples.bots.Bots;
import io.braid.examples.gateway.GatewayService;
import io.braid.examples.proto.ActReply;
import io.braid.examples.proto.ActRequest;
import io.braid.examples.proto.LoginReply;
import io.braid.examples.proto.LoginRequest;
import io.braid.examples.proto.LogoutReply;
import io.braid.examples.proto.LogoutRequest;
import io.braid.examples.proto.PlayerPush;
import io.braid.examples.proto.Reward;
import io.braid.gateway.client.GatewayClient;
import io.braid.gateway.client.Transport;
import io.braid.runtime.Braid;
import io.braid.runtime.InMemoryControlPlane;
import io.braid.testkit.Await;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The logic service on real nodes of the in-memory control plane: a logic node and the demo's real
 * gateway ({@link GatewayService}, braid-gateway underneath). Most calls go to the logic node
 * straight from the gateway's node with a player's token; the reward and the session's end go
 * through a real player session ({@link GatewayClient} over WebSocket).
 */
class LogicServiceTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final CallOptions CALL = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final Duration GRACE = Duration.ofMillis(300);

    private final InMemoryControlPlane plane = new InMemoryControlPlane("logic-" + System.nanoTime());
    private final List<AutoCloseable> started = new ArrayList<>();
    private GatewayService gatewayService;
    private Braid gateway;
    private LogicService logic;

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable node : started.reversed()) {
            node.close();
        }
    }

    private void start(Duration rewardAfter) {
        logic = LogicService.start(Braid.builder().nodeId("logic-1").ioThreads(1).inMemory(plane), rewardAfter);
        started.add(logic);
        gatewayService = GatewayService.start(Braid.builder().nodeId("gateway-1").ioThreads(1).inMemory(plane),
                "127.0.0.1", 0, GRACE);
        started.add(gatewayService);
        gateway = gatewayService.braid();
        Await.until(WAIT, "the logic node sees the gateway",
                () -> logic.braid().discover().nodes(GatewayService.SERVICE).size() == 1);
    }

    /** A player's client on the gateway, its pushes collected. */
    private GatewayClient player(String name, List<PlayerPush> pushes) {
        GatewayClient client = GatewayClient.builder().transport(Transport.WEBSOCKET)
                .addresses(List.of(new InetSocketAddress("127.0.0.1", gatewayService.port())))
                .credentials(name.getBytes(StandardCharsets.UTF_8))
                .onPush((seq, payload) -> {
                    try {
                        pushes.add(PlayerPush.parseFrom(payload));
                    } catch (InvalidProtocolBufferException e) {
                        throw new AssertionError(e);
                    }
                })
                .build();
        started.add(client);
        client.connect().join();
        return client;
    }

    private static <R> R call(GatewayClient client, String route, MessageLite request, Parser<R> parser)
            throws InvalidProtocolBufferException {
        return parser.parseFrom(client.call(route, request.toByteArray()).join());
    }

    private LoginReply login(String token) {
        return gateway.invoke(LogicService.SERVICE, LogicService.LOGIN, token,
                LoginRequest.newBuilder().setPlayer(token).build(), LoginReply.parser(), CALL).join();
    }

    private CompletableFuture<ActReply> click(String token) {
        return gateway.invoke(LogicService.SERVICE, LogicService.ACT, token,
                ActRequest.newBuilder().setAction("click").build(), ActReply.parser(), CALL);
    }

    @Test
    void concurrentClicksOfOnePlayerCountEveryOneOnceInTheLane() {
        start(Duration.ZERO);
        login("player:ann");
        // 8 callers, 50 clicks each, one after the other: at most 8 wait in the lane (its bound is 256).
        int callers = 8;
        int clicksEach = 50;
        int clicks = callers * clicksEach;
        List<Long> counters;
        try (ExecutorService callersPool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<List<ActReply>>> replies = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                replies.add(CompletableFuture.supplyAsync(() -> {
                    List<ActReply> mine = new ArrayList<>();
                    for (int c = 0; c < clicksEach; c++) {
                        mine.add(click("player:ann").join());
                    }
                    return mine;
                }, callersPool));
            }
            counters = replies.stream().map(CompletableFuture::join).flatMap(List::stream)
                    .map(ActReply::getCounter).sorted().toList();
        }

        // Each click saw the one before it: the counters are exactly 1..400, none lost or repeated.
        assertThat(counters).hasSize(clicks).doesNotHaveDuplicates().first().isEqualTo(1L);
        assertThat(counters.getLast()).isEqualTo(clicks);
        assertThat(logic.playersOnline()).isEqualTo(1);
        assertThat(logic.tokensServed()).containsExactly("player:ann");
        assertThat(logic.callsServed()).isEqualTo(clicks + 1);
    }

    @Test
    void loginResumesAndLogoutEndsThePlayerSoTheNextLoginBeginsAnew() {
        start(Duration.ZERO);
        assertThat(login("player:bob").getResumed()).isFalse();
        click("player:bob").join();
        click("player:bob").join();
        LoginReply again = login("player:bob");
        assertThat(again.getResumed()).isTrue();
        assertThat(again.getCounter()).isEqualTo(2);

        LogoutReply logout = gateway.invoke(LogicService.SERVICE, LogicService.LOGOUT, "player:bob",
                LogoutRequest.getDefaultInstance(), LogoutReply.parser(), CALL).join();
        assertThat(logout.getCounter()).isEqualTo(2);
        assertThat(logout.getNode()).isEqualTo("logic-1");
        // The unlink reaches the node, which deactivates the player (LEFT).
        Await.until(WAIT, "player deactivated after logout", () -> logic.playersOnline() == 0);

        LoginReply fresh = login("player:bob");
        assertThat(fresh.getResumed()).isFalse();
        assertThat(fresh.getCounter()).isZero();
        assertThat(logic.playersOnline()).isEqualTo(1);
    }

    @Test
    void aClickWithoutALoginHereBeginsAnewAndSaysRecovered() {
        start(Duration.ZERO);
        ActReply first = click("player:cid").join();
        assertThat(first.getRecovered()).isTrue();
        assertThat(first.getCounter()).isEqualTo(1);
        assertThat(click("player:cid").join().getRecovered()).isFalse();
    }

    @Test
    void theRewardTimerRunsInThePlayersLaneAndIsPushedToThePlayersSession() throws Exception {
        start(Duration.ofMillis(200));
        List<PlayerPush> pushes = new CopyOnWriteArrayList<>();
        GatewayClient dee = player("dee", pushes);
        LoginReply login = call(dee, Bots.LOGIN_ROUTE, LoginRequest.newBuilder().setPlayer("dee").build(),
                LoginReply.parser());
        assertThat(login.getRewardInMillis()).isEqualTo(200);

        Await.until(WAIT, () -> "reward pushed; pushes " + pushes, () -> pushes.size() == 1 && logic.rewardsPushed() == 1);
        Reward reward = pushes.getFirst().getReward();
        assertThat(reward.getGold()).isEqualTo(LogicService.REWARD_GOLD);
        assertThat(reward.getFromNode()).isEqualTo("logic-1");
        String id = pushes.getFirst().getId();
        assertThat(id).as("<node>-<pusher>-<n>").matches("logic-1-[0-9a-z]+-1");
        assertThat(logic.pusher().accepted()).containsExactly(id);
        // A second pusher on the same node numbers its own pushes: its first id is not the reward's,
        // so the gateway, which shows a push id once, shows this one too.
        long seq = new PlayerPusher(logic.braid()).push(GatewayService.token("dee"), PlayerPush.newBuilder()
                .setReward(Reward.newBuilder().setGold(1))).join();
        assertThat(seq).as("numbered after the reward").isEqualTo(2);
        Await.until(WAIT, () -> "the second push shown; pushes " + pushes, () -> pushes.size() == 2);
        assertThat(pushes.get(1).getId()).isNotEqualTo(id).endsWith("-1");
        LoginReply again = call(dee, Bots.LOGIN_ROUTE, LoginRequest.newBuilder().setPlayer("dee").build(),
                LoginReply.parser());
        assertThat(again.getGold()).isEqualTo(LogicService.REWARD_GOLD);
        // Once per player state: the reward was given, a second login promises none.
        assertThat(again.getRewardInMillis()).isZero();
    }

    @Test
    void aSessionThatEndsWithoutALogoutLogsThePlayerOutButALogoutIsNotCountedTwice() throws Exception {
        start(Duration.ZERO);
        GatewayClient eve = player("eve", new CopyOnWriteArrayList<>());
        call(eve, Bots.LOGIN_ROUTE, LoginRequest.newBuilder().setPlayer("eve").build(), LoginReply.parser());
        assertThat(call(eve, Bots.ACT_ROUTE, ActRequest.newBuilder().setAction("click").build(), ActReply.parser())
                .getCounter()).isEqualTo(1);
        assertThat(logic.playersOnline()).isEqualTo(1);

        eve.close(); // the connection drops without a Logout; the gateway's grace (300 ms) passes: CLOSED
        Await.until(WAIT, "eve logged out by her logic node once her session ended",
                () -> logic.sessionsEndedByGateway() == 1 && logic.playersOnline() == 0);
        assertThat(logic.resumedPlayersLoggedOut()).as("her session had not been resumed").isZero();

        GatewayClient fay = player("fay", new CopyOnWriteArrayList<>());
        call(fay, Bots.LOGIN_ROUTE, LoginRequest.newBuilder().setPlayer("fay").build(), LoginReply.parser());
        call(fay, Bots.LOGOUT_ROUTE, LogoutRequest.getDefaultInstance(), LogoutReply.parser());
        fay.logout().join(); // CLOSED "logged out": the player said goodbye herself
        Await.until(WAIT, "fay deactivated after her logout", () -> logic.playersOnline() == 0);
        assertThat(logic.sessionsEndedByGateway()).as("a logout is not a session ended by the gateway").isEqualTo(1);
    }
}
