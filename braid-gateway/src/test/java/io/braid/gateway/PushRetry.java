package io.braid.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.gateway.proto.LoginOk;
import io.braid.gateway.proto.ServerFrame;
import io.braid.testkit.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Pushes with an id asked again, run on each control plane (in memory, one Redis, a Redis
 * Cluster): a retry after the answer, eight calls with one id in flight together, a retry while the
 * session is detached, and a retry that reaches the session after it resumed on another gateway.
 * Every call with one id answers the same seq; the player sees each push once, also in the replay.
 */
final class PushRetry {
    /** A resume grace long enough for a loaded machine: the session must still be there to resume. */
    static final Duration GRACE = Duration.ofSeconds(20);
    private static final int RACING = 8;

    private PushRetry() {
    }

    static void run(GatewayFixture cluster, GatewayFixture.GatewayNode one, GatewayFixture.GatewayNode two,
                    String token) {
        GatewayPush pusher = cluster.pusher();
        TestClient first = TestClient.tcp(one.tcp());
        LoginOk login = first.login(token).getLoginOk();
        long seq = pusher.push(token, "quest-1", utf8("one")).join();
        assertThat(seq).isEqualTo(1L);
        assertThat(pusher.push(token, "quest-1", utf8("one")).join()).as("asked again after the answer").isEqualTo(1L);

        List<CompletableFuture<Long>> racing = new ArrayList<>();
        for (int i = 0; i < RACING; i++) {
            racing.add(pusher.push(token, "quest-2", utf8("two")));
        }
        assertThat(racing.stream().map(CompletableFuture::join).toList()).as("%d calls with one id in flight", RACING)
                .containsOnly(2L);
        assertThat(pusher.push(token, "quest-3", utf8("three")).join()).isEqualTo(3L);
        // Pushes reach the client in seq order: a second copy of 1 or 2 would be there before 3.
        Await.until(TestClient.WAIT, "push 3", () -> first.pushes().size() >= 3);
        assertThat(payloads(first)).containsExactly("1:one", "2:two", "3:three");

        first.close();
        Await.until(TestClient.WAIT, "the session to detach", () -> one.gateway().sessionCount() == 0);
        assertThat(pusher.push(token, "quest-4", utf8("four")).join()).isEqualTo(4L);
        assertThat(pusher.push(token, "quest-4", utf8("four")).join()).as("a retry while detached").isEqualTo(4L);
        try (TestClient second = TestClient.webSocket(two.ws(), false)) {
            ServerFrame resumed = second.resume(login.getResumeToken(), 3);
            assertThat(resumed.hasResumed()).as("%s", resumed).isTrue();
            assertThat(resumed.getResumed().getReplayed()).as("push 4 replayed once").isEqualTo(1);
            // The binding moved: the pusher's near cache may still name the first gateway (UNAVAILABLE: ask again).
            List<Long> retried = new ArrayList<>();
            Await.until(TestClient.WAIT, "a retry of push 4 to reach the resumed session", () -> {
                retried.add(pusher.push(token, "quest-4", utf8("four")).join());
                return true;
            });
            assertThat(retried).as("a retry on the gateway the session resumed on").containsExactly(4L);
            assertThat(pusher.push(token, "quest-5", utf8("five")).join()).isEqualTo(5L);
            Await.until(TestClient.WAIT, "push 5", () -> second.pushes().size() >= 2);
            assertThat(payloads(second)).containsExactly("4:four", "5:five");
        }
    }

    private static List<String> payloads(TestClient client) {
        return client.pushes().stream().map(push -> push.getPushSeq() + ":" + TestClient.utf8(push.getPayload()))
                .toList();
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
