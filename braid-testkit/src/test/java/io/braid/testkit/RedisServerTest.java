package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RedisServerTest {

    @Test
    void startsOnLoopbackAndAnswersPing() {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            assertThat(redis.host()).isEqualTo("127.0.0.1");
            assertThat(redis.port()).isBetween(1, 65_535).isNotEqualTo(6379);
            assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.port());
            assertThat(redis.isRunning()).isTrue();
            assertThat(probe.ping()).isTrue();

            String server = probe.info("server");
            assertThat(InfoFields.get(server, "process_id")).isEqualTo(Long.toString(redis.pid()));
            assertThat(InfoFields.get(server, "tcp_port")).isEqualTo(Integer.toString(redis.port()));
            assertThat(probe.command("CONFIG", "GET", "bind")).isEqualTo(List.of("bind", "127.0.0.1"));
            assertThat(probe.command("CONFIG", "GET", "save")).isEqualTo(List.of("save", ""));
            assertThat(probe.command("CONFIG", "GET", "appendonly")).isEqualTo(List.of("appendonly", "no"));
            assertThat(probe.command("CONFIG", "GET", "dir"))
                    .isEqualTo(List.of("dir", redis.directory().toRealPath().toString()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void killThenRestartOnTheSamePort() {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            int port = redis.port();
            long firstPid = redis.pid();

            redis.kill();

            assertThat(redis.isRunning()).isFalse();
            assertThat(isAlive(firstPid)).isFalse();
            assertThat(probe.ping()).isFalse();

            redis.restart();

            assertThat(redis.port()).isEqualTo(port);
            assertThat(redis.pid()).isNotEqualTo(firstPid);
            assertThat(redis.isRunning()).isTrue();
            assertThat(probe.ping()).isTrue(); // the same probe reconnects
        }
    }

    @Test
    void withoutPersistenceKillAndRestartLoseTheData() {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            probe.command("SET", "player:42", "online");

            redis.kill();
            redis.restart();

            assertThat(probe.command("GET", "player:42")).isNull();
            assertThat(probe.command("DBSIZE")).isEqualTo(0L);
        }
    }

    @Test
    void appendOnlyKeepsAcknowledgedWritesAcrossKill9AndRestartEmptyWipesThem() {
        try (RedisServer redis = RedisServer.builder().appendOnly(true).start(); RedisProbe probe = redis.probe()) {
            assertThat(probe.command("CONFIG", "GET", "appendfsync")).isEqualTo(List.of("appendfsync", "always"));
            probe.command("SET", "player:42", "online");
            probe.command("RPUSH", "inbox", "a", "b", "c");

            redis.kill();
            redis.restart();

            assertThat(probe.command("GET", "player:42")).isEqualTo("online");
            assertThat(probe.command("LRANGE", "inbox", "0", "-1")).isEqualTo(List.of("a", "b", "c"));

            redis.restartEmpty();

            assertThat(probe.command("GET", "player:42")).isNull();
            assertThat(probe.command("DBSIZE")).isEqualTo(0L);
            assertThat(probe.command("CONFIG", "GET", "appendonly")).isEqualTo(List.of("appendonly", "yes"));
        }
    }

    @Test
    void stopShutsDownGracefullyAndAppendOnlyDataSurvivesIt() {
        try (RedisServer redis = RedisServer.builder().appendOnly(true).start(); RedisProbe probe = redis.probe()) {
            long pid = redis.pid();
            probe.command("SET", "k", "v");

            redis.stop();

            assertThat(redis.isRunning()).isFalse();
            assertThat(isAlive(pid)).isFalse();
            assertThat(probe.ping()).isFalse();
            assertThat(log(redis)).contains("User requested shutdown").contains("ready to exit");

            redis.stop(); // not running: nothing to do
            redis.restart();

            assertThat(probe.command("GET", "k")).isEqualTo("v");
        }
    }

    @Test
    void restartOfARunningServerStopsItFirst() {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            long pid = redis.pid();
            probe.command("SET", "k", "v");

            redis.restart();

            assertThat(isAlive(pid)).isFalse();
            assertThat(redis.pid()).isNotEqualTo(pid);
            assertThat(probe.command("GET", "k")).isNull();
        }
    }

    @Test
    void pausedServerDoesNotAnswerUntilResumed() {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            probe.command("SET", "k", "v");

            redis.pause();

            long before = System.nanoTime();
            assertThat(probe.ping()).isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(2));
            assertThat(redis.isRunning()).isTrue();

            redis.resume();

            assertThat(probe.ping()).isTrue();
            assertThat(probe.command("GET", "k")).isEqualTo("v");
        }
    }

    @Test
    void pausedServerCanBeStoppedAndKilled() {
        try (RedisServer redis = RedisServer.start()) {
            redis.pause();
            redis.stop(); // resumes, then SHUTDOWN
            assertThat(redis.isRunning()).isFalse();

            redis.restart();
            redis.pause();
            long pid = redis.pid();
            redis.kill();
            assertThat(isAlive(pid)).isFalse();
        }
    }

    @Test
    void passwordIsRequiredAndCarriedByUriAndProbe() {
        try (RedisServer redis = RedisServer.builder().password("s3cret").start();
                RedisProbe anonymous = new RedisProbe(redis.host(), redis.port(), null);
                RedisProbe probe = redis.probe()) {
            assertThat(redis.uri()).isEqualTo("redis://:s3cret@127.0.0.1:" + redis.port());

            assertThatThrownBy(() -> anonymous.command("GET", "k"))
                    .isInstanceOfSatisfying(RedisProbe.ErrorReply.class,
                            e -> assertThat(e.prefix()).isEqualTo("NOAUTH"));

            assertThat(probe.command("SET", "k", "v")).isEqualTo("OK");
            assertThat(probe.ping()).isTrue();

            redis.kill();
            redis.restart();
            assertThat(probe.ping()).isTrue(); // AUTH again on the new connection
        }
    }

    @Test
    void aBuilderChangedAfterStartChangesNothingStartedNotEvenOnRestart() {
        RedisServer.Builder builder = RedisServer.builder().password("first").extraArgs("--maxmemory", "10mb");
        try (RedisServer redis = builder.start(); RedisProbe probe = redis.probe()) {
            // Were any of these read by the running server, its restart would come back with them.
            builder.password("second").appendOnly(true).extraArgs("--maxmemory", "20mb");

            redis.kill();
            redis.restart();

            assertThat(redis.uri()).isEqualTo("redis://:first@127.0.0.1:" + redis.port());
            assertThat(probe.command("CONFIG", "GET", "requirepass")).isEqualTo(List.of("requirepass", "first"));
            assertThat(probe.command("CONFIG", "GET", "appendonly")).isEqualTo(List.of("appendonly", "no"));
            assertThat(probe.command("CONFIG", "GET", "maxmemory"))
                    .isEqualTo(List.of("maxmemory", Long.toString(10L * 1024 * 1024)));
        }
    }

    @Test
    void extraArgsReachTheServer() {
        try (RedisServer redis = RedisServer.builder().extraArgs("--maxmemory", "10mb").start();
                RedisProbe probe = redis.probe()) {
            assertThat(probe.command("CONFIG", "GET", "maxmemory"))
                    .isEqualTo(List.of("maxmemory", Long.toString(10L * 1024 * 1024)));
        }
    }

    @Test
    void startFailureShowsTheEndOfTheServerLog() {
        assertThatThrownBy(() -> RedisServer.builder().extraArgs("--no-such-directive", "1").start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited with code")
                .hasMessageContaining("no-such-directive");
    }

    @Test
    void builderRejectsBadSettingsAtOnce() {
        assertThatThrownBy(() -> RedisServer.builder().password("has space"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password");
        assertThatThrownBy(() -> RedisServer.builder().password(""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("password");
        assertThatThrownBy(() -> RedisServer.builder().extraArgs("--port", "6379"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--port");
        assertThatThrownBy(() -> RedisServer.builder().extraArgs("--APPENDONLY", "yes"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--APPENDONLY");
        assertThatThrownBy(() -> RedisServer.builder().extraArgs("--maxmemory", null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
    }

    @Test
    void restartWaitsWhileItsPortIsStillBound() throws Exception {
        try (RedisServer redis = RedisServer.start(); RedisProbe probe = redis.probe()) {
            redis.kill();
            CompletableFuture<Void> restart;
            try (ServerSocket squatter = new ServerSocket()) {
                squatter.bind(new InetSocketAddress(InetAddress.getByName(redis.host()), redis.port()));

                restart = CompletableFuture.runAsync(redis::restart);

                Await.until(Duration.ofSeconds(5), "a restart attempt to find the port taken",
                        () -> log(redis).contains("Address already in use"));
                assertThat(restart).isNotDone();
            }
            restart.get();
            assertThat(redis.isRunning()).isTrue();
            assertThat(probe.ping()).isTrue();
        }
    }

    @Test
    void firstStartMovesToAnotherPortWhenItsPortIsTaken() throws IOException {
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int taken = squatter.getLocalPort();
            Iterator<Integer> ports = List.of(taken, LoopbackPorts.pick()).iterator();

            try (RedisServer redis = RedisServer.builder().freePorts(ports::next).start();
                    RedisProbe probe = redis.probe()) {
                assertThat(redis.port()).isNotEqualTo(taken);
                assertThat(probe.ping()).isTrue();
                assertThat(log(redis)).contains("Address already in use");
            }
        }
    }

    @Test
    void closeKillsTheProcessDeletesTheDirectoryAndIsIdempotent() {
        RedisServer redis = RedisServer.start();
        long pid = redis.pid();
        Path dir = redis.directory();
        assertThat(dir).isDirectory();

        redis.close();
        redis.close();

        assertThat(isAlive(pid)).isFalse();
        assertThat(dir).doesNotExist();
        assertThat(redis.isRunning()).isFalse();
        assertThatThrownBy(redis::restart).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(redis::probe).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    @Test
    void serversDoNotShareAnything() {
        try (RedisServer first = RedisServer.start(); RedisServer second = RedisServer.start();
                RedisProbe one = first.probe(); RedisProbe two = second.probe()) {
            assertThat(first.port()).isNotEqualTo(second.port());
            assertThat(first.directory()).isNotEqualTo(second.directory());
            one.command("SET", "k", "first");
            assertThat(two.command("GET", "k")).isNull();
        }
    }

    static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static String log(RedisServer redis) {
        try {
            return Files.readString(redis.directory().resolve("redis.log"))
                    + Files.readString(redis.directory().resolve("console.log"));
        } catch (IOException e) {
            return "";
        }
    }
}
