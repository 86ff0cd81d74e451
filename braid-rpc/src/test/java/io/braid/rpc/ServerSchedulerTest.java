package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A scheduler lent to the server runs its periodic and closing work, and outlives the server. */
class ServerSchedulerTest {
    @Test
    void theFenceSweepRunsOnTheLentSchedulerWhichTheServerNeverShutsDown() throws Exception {
        ScheduledExecutorService lent = Executors.newSingleThreadScheduledExecutor(
                task -> Thread.ofPlatform().name("lent-scheduler").daemon().unstarted(task));
        Set<String> askedOn = ConcurrentHashMap.newKeySet();
        try {
            RpcServer server = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1)
                    .scheduler(lent).fenceCheckInterval(Duration.ofMillis(5))
                    .tokenGate(() -> {
                        askedOn.add(Thread.currentThread().getName());
                        return true;
                    })
                    .build().start();

            Await.until(Duration.ofSeconds(5), "the gate is asked by the sweep", () -> askedOn.contains("lent-scheduler"));
            server.close();

            assertThat(askedOn).allMatch(name -> name.equals("lent-scheduler")); // no call came: only the sweep asked
            assertThat(lent.isShutdown()).isFalse();
            assertThat(lent.submit(() -> "still runs").get(5, TimeUnit.SECONDS)).isEqualTo("still runs");
        } finally {
            lent.shutdownNow();
        }
    }
}
