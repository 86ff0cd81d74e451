package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A master, a replica and three Sentinels: the deployment starts whole, a manual failover and a
 * killed master both promote the replica, and closing leaves no process and no directory behind.
 */
class RedisSentinelTest {
    private RedisSentinel sentinel;

    @BeforeEach
    void startDeployment() {
        long start = System.nanoTime();
        sentinel = RedisSentinel.start();
        System.out.printf("master, replica and three Sentinels whole in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }

    @AfterEach
    void closeDeployment() {
        sentinel.close();
    }

    @Test
    void startsWholeAndAnnouncesTheFirstNodeAsTheMaster() {
        RedisServer first = sentinel.dataNodes().get(0);
        RedisServer second = sentinel.dataNodes().get(1);
        assertThat(sentinel.master()).isSameAs(first);
        assertThat(sentinel.replica()).isSameAs(second);
        assertThat(sentinel.sentinels()).hasSize(3).allSatisfy(s -> assertThat(s.isRunning()).isTrue());
        assertThat(sentinel.uri()).isEqualTo("redis-sentinel://" + String.join(",",
                sentinel.sentinels().stream().map(s -> "127.0.0.1:" + s.port()).toList()) + "#braid");
        assertThat(sentinel.downAfter()).isEqualTo(Duration.ofSeconds(1));

        try (RedisProbe master = first.probe(); RedisProbe replica = second.probe();
                RedisProbe aSentinel = sentinel.sentinels().get(2).probe()) {
            master.command("SET", "player:1", "online");
            assertThat(master.command("WAIT", "1", "5000")).isEqualTo(1L);
            assertThat(replica.command("GET", "player:1")).isEqualTo("online");
            assertThat(aSentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "braid"))
                    .isEqualTo(List.of("127.0.0.1", Integer.toString(first.port())));
            assertThat(aSentinel.command("SENTINEL", "CKQUORUM", "braid").toString()).startsWith("OK");
        }
    }

    @Test
    void aManualFailoverPromotesTheReplicaAndTheOldMasterRejoinsAsItsReplica() {
        RedisServer old = sentinel.master();
        try (RedisProbe probe = old.probe()) {
            probe.command("SET", "player:7", "online");
            assertThat(probe.command("WAIT", "1", "5000")).isEqualTo(1L);
        }

        long start = System.nanoTime();
        RedisServer promoted = sentinel.failover();
        long announced = (System.nanoTime() - start) / 1_000_000;
        sentinel.awaitHealthy();
        System.out.printf("SENTINEL FAILOVER: new master announced by every Sentinel after %d ms, "
                + "old master a replica of it after %d ms%n", announced, (System.nanoTime() - start) / 1_000_000);

        assertThat(promoted).isNotSameAs(old).isSameAs(sentinel.dataNodes().get(1));
        assertThat(sentinel.master()).isSameAs(promoted);
        assertThat(sentinel.replica()).isSameAs(old);
        try (RedisProbe probe = promoted.probe()) {
            assertThat(probe.command("GET", "player:7")).isEqualTo("online");
        }
        try (RedisProbe probe = old.probe()) {
            assertThatThrownBy(() -> probe.command("SET", "player:7", "x"))
                    .isInstanceOfSatisfying(RedisProbe.ErrorReply.class, e -> assertThat(e.prefix()).isEqualTo("READONLY"));
        }

        RedisServer back = sentinel.failover();
        assertThat(back).isSameAs(old);
        assertThat(sentinel.master()).isSameAs(old);
    }

    @Test
    void aKilledMasterIsReplacedByTheReplicaAndRejoinsAsAReplicaAfterRestart() {
        RedisServer old = sentinel.master();
        try (RedisProbe probe = old.probe()) {
            probe.command("SET", "player:9", "online");
            assertThat(probe.command("WAIT", "1", "5000")).isEqualTo(1L); // replicated before the crash
        }

        long start = System.nanoTime();
        RedisServer promoted = sentinel.killMaster();
        System.out.printf("kill -9 of the master: replica announced by every Sentinel after %d ms (down-after %d ms)%n",
                (System.nanoTime() - start) / 1_000_000, sentinel.downAfter().toMillis());

        assertThat(old.isRunning()).isFalse();
        assertThat(promoted).isNotSameAs(old);
        assertThat(sentinel.master()).isSameAs(promoted);
        try (RedisProbe probe = promoted.probe()) {
            assertThat(probe.command("GET", "player:9")).isEqualTo("online");
        }

        long restart = System.nanoTime();
        old.restart();
        sentinel.awaitHealthy();
        // The old master rejoins as the replica — unless the Sentinels (down-after 1 s) took the new
        // master for down while the old one restarted and failed over once more (seen in full builds
        // on this 2-core machine): then the old one, restarted empty, leads again, the other follows
        // it, and what was written before the crash is gone — Redis restarting empty, the fault the
        // link cache's epochs are built for. Either way the pair is whole again and replicates.
        RedisServer master = sentinel.master();
        RedisServer replica = sentinel.replica();
        System.out.printf("the restarted old master rejoins after %d ms, as the %s%n",
                (System.nanoTime() - restart) / 1_000_000, replica == old ? "replica" : "master (a second failover)");
        assertThat(List.of(master, replica)).containsExactlyInAnyOrder(old, promoted);
        try (RedisProbe probe = master.probe()) {
            probe.command("SET", "player:10", "online");
            assertThat(probe.command("WAIT", "1", "5000")).as("the rejoined pair replicates").isEqualTo(1L);
        }
        try (RedisProbe probe = replica.probe()) {
            assertThat(probe.command("GET", "player:10")).isEqualTo("online");
            if (replica == old) {
                assertThat(probe.command("GET", "player:9")).as("the write from before the crash").isEqualTo("online");
            }
        }
    }

    @Test
    void failingOverWithoutARunningReplicaIsRefused() {
        sentinel.replica().kill();
        assertThatThrownBy(sentinel::failover).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("both data nodes must run");
        assertThatThrownBy(sentinel::killMaster).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("both data nodes must run");
        assertThat(sentinel.master().isRunning()).as("a refused killMaster kills nothing").isTrue();
    }

    @Test
    void closeKillsEveryProcessAndDeletesEveryDirectoryAndIsIdempotent() {
        List<RedisServer> all = new ArrayList<>(sentinel.dataNodes());
        all.addAll(sentinel.sentinels());
        List<Long> pids = all.stream().map(RedisServer::pid).toList();
        List<Path> dirs = all.stream().map(RedisServer::directory).toList();
        assertThat(dirs).allSatisfy(dir -> assertThat(dir).isDirectory());
        assertThat(sentinel.sentinels().get(0).directory().resolve("sentinel.conf")).isRegularFile();

        sentinel.close();
        sentinel.close();

        assertThat(pids).allSatisfy(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                .as("process %d", pid).isFalse());
        assertThat(dirs).allSatisfy(dir -> assertThat(Files.exists(dir)).as("directory %s", dir).isFalse());
        assertThatThrownBy(sentinel::master).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(sentinel::failover).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void aDownAfterOutsideItsRangeIsRefusedAtOnce() {
        assertThatThrownBy(() -> RedisSentinel.start(Duration.ofMillis(50)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("downAfter must be between 100 ms and 60 s");
    }
}
