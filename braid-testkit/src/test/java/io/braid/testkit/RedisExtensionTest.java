package io.braid.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

class RedisExtensionTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    private static long pidAtStart;

    @BeforeAll
    static void recordThePid() {
        pidAtStart = redis.server().pid();
    }

    @Test
    void theServerRunsDuringTheTests() {
        try (RedisProbe probe = redis.server().probe()) {
            assertThat(probe.ping()).isTrue();
        }
        assertThatThrownBy(redis::cluster).isInstanceOf(IllegalStateException.class).hasMessageContaining("server()");
    }

    @Nested
    class NestedTests {
        @Test
        void shareTheEnclosingClassServer() {
            assertThat(redis.server().pid()).isEqualTo(pidAtStart);
        }
    }

    @Test
    void aStaticExtensionServesTheWholeClassThenClosesTheServer() {
        TestExecutionSummary summary = run(StaticSample.class);

        assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
        assertThat(StaticSample.seen).hasSize(2);
        RedisServer server = StaticSample.seen.get(0);
        assertThat(StaticSample.seen.get(1)).isSameAs(server);
        assertThat(RedisServerTest.isAlive(server.pid())).isFalse();
        assertThat(server.directory()).doesNotExist();
        assertThatThrownBy(StaticSample.redis::server).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anInstanceExtensionGivesEachTestItsOwnServer() {
        TestExecutionSummary summary = run(InstanceSample.class);

        assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
        assertThat(InstanceSample.seen).hasSize(2);
        assertThat(InstanceSample.seen.get(0).port()).isNotEqualTo(InstanceSample.seen.get(1).port());
        assertThat(InstanceSample.seen).allSatisfy(server -> {
            assertThat(RedisServerTest.isAlive(server.pid())).isFalse();
            assertThat(server.directory()).doesNotExist();
        });
    }

    @Test
    void aServerBuilderCarriesItsSettings() {
        TestExecutionSummary summary = run(BuilderSample.class);

        assertThat(summary.getTestsFailedCount()).isZero();
        assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
    }

    private static TestExecutionSummary run(Class<?> testClass) {
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(
                LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), listener);
        return listener.getSummary();
    }

    /** Run only through {@link #run}; surefire skips nested classes. */
    static class StaticSample {
        @RegisterExtension
        static final RedisExtension redis = RedisExtension.single();
        static final List<RedisServer> seen = new CopyOnWriteArrayList<>();

        @Test
        void first() {
            seen.add(redis.server());
        }

        @Test
        void second() {
            seen.add(redis.server());
        }
    }

    static class InstanceSample {
        static final List<RedisServer> seen = new CopyOnWriteArrayList<>();

        @RegisterExtension
        final RedisExtension redis = RedisExtension.single();

        @Test
        void first() {
            seen.add(redis.server());
        }

        @Test
        void second() {
            seen.add(redis.server());
        }
    }

    static class BuilderSample {
        @RegisterExtension
        static final RedisExtension redis = RedisExtension.single(RedisServer.builder().password("pw").appendOnly(true));

        @Test
        void settingsApply() {
            assertThat(redis.server().uri()).startsWith("redis://:pw@");
            try (RedisProbe probe = redis.server().probe()) {
                assertThat(probe.command("CONFIG", "GET", "appendonly")).isEqualTo(List.of("appendonly", "yes"));
            }
        }
    }
}
