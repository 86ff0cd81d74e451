package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.examples.logic.Activations;
import io.braid.examples.logic.LogicService;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import io.braid.testkit.RedisExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code ./demo --rolling-update} in short: one JVM, 20 bots for 3 s while both logic nodes are
 * drained in turn (their players handed over) and replaced; on the in-memory control plane and on a
 * real {@code redis-server}.
 */
class RollingUpdateDemoTest {
    @RegisterExtension
    static final RedisExtension redis = RedisExtension.single();

    @Test
    void bothLogicNodesAreReplacedWhileTheBotsClickAndNoClickIsLostNorAPlayerServedTwice() throws Exception {
        replaceBothLogicNodes(Demo.Options.inMemory(20, Duration.ofSeconds(3)));
    }

    @Test
    void theSameOnRedis() throws Exception {
        replaceBothLogicNodes(Demo.Options.inMemory(20, Duration.ofSeconds(3)).withRedis(redis.server().uri()));
    }

    private static void replaceBothLogicNodes(Demo.Options options) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Demo.Summary summary;
        List<String> logicNodes;
        try (Demo demo = Demo.start(options.withLogicNodes(2).withRollingUpdate(true))) {
            summary = demo.run(new PrintStream(printed, true, StandardCharsets.UTF_8), Duration.ofSeconds(1));
            logicNodes = demo.logic().stream().map(LogicService::nodeId).toList();
        }
        String output = printed.toString(StandardCharsets.UTF_8);
        System.out.println(output);

        Demo.Rolling rolling = summary.rolling();
        assertThat(rolling).as(output).isNotNull();
        assertThat(rolling.problems()).as(output).isEmpty();
        assertThat(rolling.handoffs()).as(output).extracting(RollingUpdate.Step::drained, RollingUpdate.Step::replacement)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("logic-1", "logic-3"),
                        org.assertj.core.groups.Tuple.tuple("logic-2", "logic-4"));
        assertThat(logicNodes).containsExactly("logic-1", "logic-2", "logic-3", "logic-4");
        assertThat(rolling.playersMoved()).as(output).isPositive();
        assertThat(rolling.handoffs()).as(output).allSatisfy(step -> assertThat(step.drainedInTime()).isTrue());
        assertThat(rolling.clicksLost()).as(output).isZero();
        assertThat(rolling.servedByTwoAtOnce()).as(output).isEmpty();
        assertThat(summary.bots().loggedIn()).isEqualTo(20);
        assertThat(summary.passed()).as(output).isTrue();
        assertThat(output).contains("rolling update: logic-1 -> logic-3").contains("players moved")
                .contains("calls failed").contains("check: clicks lost 0").contains("check: served by two nodes at once 0")
                .contains("RESULT: PASS");
    }

    @Test
    void aLostClickOrTwoNodesAtOnceFailsTheRollingUpdate() {
        Activations.Served first = new Activations.Served("ann", "logic-1", 1, 10, 20);
        Activations.Served second = new Activations.Served("ann", "logic-2", 2, 15, 30);

        assertThat(new Demo.Rolling(List.of(), List.of(), 1, 0, 0, List.of()).passed()).isTrue();
        assertThat(new Demo.Rolling(List.of(), List.of(), 1, 0, 1, List.of()).passed()).isFalse();
        assertThat(new Demo.Rolling(List.of(), List.of(), 1, 0, 0,
                Activations.servedByTwoAtOnce(List.of(first, second))).passed()).isFalse();
    }

    @Test
    void theFlagAndItsVariableTurnTheRollingUpdateOnAndTheDemoIsUnchangedWithout() {
        assertThat(Demo.options(Settings.parse("demo", Demo.SETTINGS, new String[] {"--rolling-update", "--seconds", "20"},
                Map.of())).rollingUpdate()).isTrue();
        assertThat(Demo.options(Settings.parse("demo", Demo.SETTINGS, new String[0],
                Map.of("DEMO_ROLLING_UPDATE", "true"))).rollingUpdate()).isTrue();
        assertThat(Demo.options(Settings.parse("demo", Demo.SETTINGS, new String[0], Map.of())).rollingUpdate())
                .isFalse();
        assertThat(Settings.usage(Demo.SETTINGS)).contains("--rolling-update").contains("DEMO_ROLLING_UPDATE");
    }
}
