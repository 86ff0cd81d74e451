package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Code;
import io.braid.gateway.proto.Reply;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-player rate limits, on a gateway whose ticker the test moves by hand (starting just
 * below {@code Long.MAX_VALUE}, so the buckets refill across the ticker's wrap): exact counts of
 * calls served and refused, the refused ones never reach the logic node, a player who keeps
 * flooding is closed, and another player on the same gateway is served all the while. The limits
 * are the player's, not the connection's: a resume, a new login or a kicked duplicate finds the
 * buckets (and the refusal count) where the player left them.
 */
class RateLimitTest {
    private static final int CALLS_PER_SECOND = 10;
    private static final int CALL_BURST = 5;
    private static final int MAX_REFUSALS = 3;
    private static final long MILLI = 1_000_000L;

    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 500 * MILLI);
    private final GatewayFixture cluster = GatewayFixture.inMemory();

    @AfterEach
    void close() throws Exception {
        cluster.close();
    }

    private GatewayFixture.GatewayNode callLimited() {
        return cluster.gateway("gateway-1", builder -> builder.ticker(now::get)
                .callRateLimit(CALLS_PER_SECOND, CALL_BURST).maxRateLimitRefusals(MAX_REFUSALS));
    }

    /** The ticker time in which an empty calls bucket fills up to its burst again. */
    private static final long REFILL_NANOS = CALL_BURST * 1_000L / CALLS_PER_SECOND * MILLI;

    private static void served(TestClient client, int calls) {
        for (int i = 0; i < calls; i++) {
            Reply reply = client.call("logic.player.act", "move");
            assertThat(reply.getCode()).as("call %d served: %s", i + 1, reply).isEqualTo(Code.OK.value());
        }
    }

    private static void refused(TestClient client, String limit) {
        Reply reply = client.call("logic.player.act", "move");
        assertThat(reply.getCode()).as(reply.toString()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
        assertThat(reply.getMessage()).contains("rate limit: " + limit);
        assertThat(client.isClosed()).as("a refusal leaves the connection open").isFalse();
    }

    @Test
    void aFloodingPlayerIsRefusedThenClosedWhileAnotherPlayerIsServed() {
        GatewayFixture.GatewayNode gateway = callLimited();
        try (TestClient flooder = TestClient.tcp(gateway.tcp());
             TestClient bystander = TestClient.webSocket(gateway.ws(), false)) {
            assertThat(flooder.login("player:flooder").hasLoginOk()).isTrue();
            assertThat(bystander.login("player:bystander").hasLoginOk()).isTrue();

            served(flooder, CALL_BURST);
            for (int i = 0; i < MAX_REFUSALS; i++) {
                refused(flooder, CALLS_PER_SECOND + " calls/s");
                // The other player's bucket is its own: served at once, time standing still.
                served(bystander, 1);
            }
            closedForFlooding(flooder);

            assertThat(cluster.actedFor("player:flooder")).as("refused calls never reach the service")
                    .isEqualTo(CALL_BURST);
            served(bystander, 1);
            assertThat(cluster.actedFor("player:bystander")).isEqualTo(MAX_REFUSALS + 1);
        }
    }

    /** Sends one Call past the refusals: the answer must be the closing Error frame, then the close. */
    private static void closedForFlooding(TestClient client) {
        int from = client.received.size();
        client.send(io.braid.gateway.proto.ClientFrame.newBuilder().setCall(io.braid.gateway.proto.Call
                .newBuilder().setSeq(999).setRoute("logic.player.act")).build());
        ServerFrame closing = client.awaitAfter(from, frame -> frame.hasError() || frame.hasReply(),
                "the answer to a call after " + MAX_REFUSALS + " refusals");
        assertThat(closing.hasError()).as("an Error frame, not a Reply: " + closing).isTrue();
        assertThat(closing.getError().getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
        assertThat(closing.getError().getMessage()).contains("rate limit: " + CALLS_PER_SECOND + " calls/s")
                .contains(MAX_REFUSALS + " refused");
        client.awaitClosed();
    }

    @Test
    void aResumeANewLoginAndAKickedDuplicateFindThePlayersBucketsWhereItLeftThem() {
        GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1", builder -> builder.ticker(now::get)
                .callRateLimit(CALLS_PER_SECOND, CALL_BURST).maxRateLimitRefusals(MAX_REFUSALS)
                .resumeGrace(Duration.ofSeconds(30))); // the resume below must not race the grace
        String limit = CALLS_PER_SECOND + " calls/s";
        try (TestClient bystander = TestClient.webSocket(gateway.ws(), false)) {
            assertThat(bystander.login("player:bystander").hasLoginOk()).isTrue();
            String resumeToken;
            try (TestClient first = TestClient.tcp(gateway.tcp())) {
                ServerFrame login = first.login("player:hopper");
                assertThat(login.hasLoginOk()).as("%s", login).isTrue();
                resumeToken = login.getLoginOk().getResumeToken();
                served(first, CALL_BURST);
                refused(first, limit);
            }
            // A reconnect at once, time standing still: the bucket is as empty as it was left.
            TestClient resumed = TestClient.tcp(gateway.tcp());
            try {
                ServerFrame answer = resumed.resume(resumeToken, 0);
                assertThat(answer.hasResumed()).as("%s", answer).isTrue();
                refused(resumed, limit);
                served(bystander, 1);

                // A new login while the resumed connection is open kicks it, and is limited as well.
                try (TestClient again = TestClient.tcp(gateway.tcp())) {
                    assertThat(again.login("player:hopper").hasLoginOk()).isTrue();
                    resumed.await(ServerFrame::hasKicked, "the resumed connection to be kicked by the new login");
                    refused(again, limit);
                    served(bystander, 1);

                    // Waiting out the refill time gives the burst back, no more.
                    now.addAndGet(REFILL_NANOS);
                    served(again, CALL_BURST);
                }
            } finally {
                resumed.close();
            }
            assertThat(cluster.actedFor("player:hopper")).as("refused calls never reach the service")
                    .isEqualTo(2 * CALL_BURST);
            assertThat(cluster.actedFor("player:bystander")).as("the other player's bucket is its own").isEqualTo(2);
        }
    }

    @Test
    void thePlayerIsClosedForFloodingAgainAtItsFirstRefusalAfterALoginUntilAQuietSecond() {
        GatewayFixture.GatewayNode gateway = callLimited();
        String limit = CALLS_PER_SECOND + " calls/s";
        try (TestClient flooder = TestClient.tcp(gateway.tcp())) {
            assertThat(flooder.login("player:relentless").hasLoginOk()).isTrue();
            served(flooder, CALL_BURST);
            for (int i = 0; i < MAX_REFUSALS; i++) {
                refused(flooder, limit);
            }
            closedForFlooding(flooder);
        }
        // The refusal count is the player's: back at once, its first refused call closes it again.
        try (TestClient back = TestClient.webSocket(gateway.ws(), false)) {
            assertThat(back.login("player:relentless").hasLoginOk()).isTrue();
            closedForFlooding(back);
        }
        // A quiet second starts the count afresh (and refills the bucket).
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        try (TestClient calm = TestClient.tcp(gateway.tcp())) {
            assertThat(calm.login("player:relentless").hasLoginOk()).isTrue();
            served(calm, CALL_BURST);
            for (int i = 0; i < MAX_REFUSALS; i++) {
                refused(calm, limit);
            }
        }
        assertThat(cluster.actedFor("player:relentless")).isEqualTo(2 * CALL_BURST);
    }

    @Test
    void aFloodSentInOneGoGetsExactlyTheRefusalsThenOneErrorAndTheRestIsDropped() {
        GatewayFixture.GatewayNode gateway = callLimited();
        int flood = CALL_BURST + MAX_REFUSALS + 50;
        try (TestClient flooder = TestClient.tcp(gateway.tcp())) {
            assertThat(flooder.login("player:burst").hasLoginOk()).isTrue();
            for (int i = 1; i <= flood; i++) { // without waiting for any reply
                flooder.send(io.braid.gateway.proto.ClientFrame.newBuilder().setCall(io.braid.gateway.proto.Call
                        .newBuilder().setSeq(i).setRoute("logic.player.act")).build());
            }
            flooder.awaitClosed();
            long refusals = flooder.received.stream().filter(frame -> frame.hasReply()
                    && frame.getReply().getCode() == Code.RESOURCE_EXHAUSTED.value()).count();
            long errors = flooder.received.stream().filter(ServerFrame::hasError).count();
            assertThat(refusals).as("refusals in " + flooder.received).isEqualTo(MAX_REFUSALS);
            assertThat(errors).as("one Error frame, then nothing more: " + flooder.received).isEqualTo(1);
            // The served calls reach the service in their own time; the connection may close first.
            Await.until(TestClient.WAIT, () -> "the burst to reach the service; acted "
                    + cluster.actedFor("player:burst"), () -> cluster.actedFor("player:burst") >= CALL_BURST);
            assertThat(cluster.actedFor("player:burst")).as("only the burst reached the service").isEqualTo(CALL_BURST);
        }
    }

    @Test
    void theBucketRefillsAtTheRateUpToTheBurstAndAQuietSecondForgivesRefusals() {
        GatewayFixture.GatewayNode gateway = callLimited();
        try (TestClient player = TestClient.tcp(gateway.tcp())) {
            assertThat(player.login("player:steady").hasLoginOk()).isTrue();
            served(player, CALL_BURST);
            refused(player, CALLS_PER_SECOND + " calls/s");

            now.addAndGet(100 * MILLI); // one call's worth at 10/s; the ticker wraps here
            served(player, 1);
            refused(player, CALLS_PER_SECOND + " calls/s");

            now.addAndGet(10_000 * MILLI); // ten seconds refill only up to the burst
            served(player, CALL_BURST);
            // The refusals before were more than a second ago: the count starts again.
            for (int i = 0; i < MAX_REFUSALS; i++) {
                refused(player, CALLS_PER_SECOND + " calls/s");
            }
            assertThat(cluster.actedFor("player:steady")).isEqualTo(2 * CALL_BURST + 1);
        }
    }

    @Test
    void theBytesLimitRefusesLargeFramesButLetsSmallOnesThrough() {
        int maxFrame = 4096;
        int bytesPerSecond = 4096;
        int byteBurst = 8192;
        GatewayFixture.GatewayNode gateway = cluster.gateway("gateway-1", builder -> builder.ticker(now::get)
                .maxFrameBytes(maxFrame).byteRateLimit(bytesPerSecond, byteBurst).maxRateLimitRefusals(MAX_REFUSALS));
        String large = "x".repeat(3000);
        try (TestClient player = TestClient.webSocket(gateway.ws(), false);
             TestClient bystander = TestClient.tcp(gateway.tcp())) {
            assertThat(player.login("player:large").hasLoginOk()).isTrue();
            assertThat(bystander.login("player:small").hasLoginOk()).isTrue();

            for (int i = 0; i < 2; i++) {
                assertThat(player.call("logic.player.act", large).getCode()).isZero();
            }
            Reply refused = player.call("logic.player.act", large);
            assertThat(refused.getCode()).as(refused.toString()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
            assertThat(refused.getMessage()).contains("rate limit: " + bytesPerSecond + " bytes/s");
            // 2192 bytes are left: a small call (5 bytes) fits; the limit is on bytes, not calls.
            assertThat(player.call("logic.player.act", "small").getCode()).isZero();
            assertThat(bystander.call("logic.player.act", large).getCode()).as("another player's bytes are its own")
                    .isZero();

            now.addAndGet(Duration.ofSeconds(1).toNanos()); // 2187 + 4096 = 6283 bytes: two more large calls
            assertThat(player.call("logic.player.act", large).getCode()).isZero();
            assertThat(player.call("logic.player.act", large).getCode()).isZero();
            assertThat(player.call("logic.player.act", large).getCode()).isEqualTo(Code.RESOURCE_EXHAUSTED.value());
            assertThat(cluster.actedFor("player:large")).as("2 large, 1 small, 2 large").isEqualTo(5);
        }
    }
}
