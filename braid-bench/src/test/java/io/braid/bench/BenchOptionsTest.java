package io.braid.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.bench.core.Suite;
import io.braid.bench.core.Window;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
    @Test
    void withoutOptionsEverySectionButScaleRunsAtTheFullWindowIntoTheWorkingDirectory() {
        Bench.Options options = Bench.Options.parse(new String[0], Bench.suites());

        assertThat(options.window()).isEqualTo(Window.FULL);
        assertThat(options.suites()).extracting(Suite::name).containsExactly("limits", "rpc", "sticky", "pubsub",
                "micro", "lanes", "handoff", "pekko", "gateway");
        assertThat(options.out()).isEqualTo(Path.of("."));
    }

    @Test
    void theSmokeRunsEverySectionAndOnlyStillPicksOne() {
        assertThat(Bench.Options.parse(new String[] {"--window", "smoke"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactlyElementsOf(Bench.suites().stream().map(Suite::name).toList());
        assertThat(Bench.Options.parse(new String[] {"--only", "lanes"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactly("lanes");
        assertThat(Bench.Options.parse(new String[] {"--only", "handoff"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactly("handoff");
        assertThat(Bench.Options.parse(new String[] {"--only", "pekko"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactly("pekko");
        assertThat(Bench.Options.parse(new String[] {"--only", "gateway"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactly("gateway");
    }

    @Test
    void theScaleSuiteIsOptInYetRunsInTheSmokeWindow() {
        assertThat(Bench.Options.parse(new String[0], Bench.suites()).suites()).extracting(Suite::name)
                .doesNotContain("scale");
        assertThat(Bench.Options.parse(new String[] {"--window", "quick"}, Bench.suites()).suites())
                .extracting(Suite::name).doesNotContain("scale");
        assertThat(Bench.Options.parse(new String[] {"--window", "smoke"}, Bench.suites()).suites())
                .extracting(Suite::name).contains("limits", "rpc", "scale");
        assertThat(Bench.Options.parse(new String[] {"--only", "scale"}, Bench.suites()).suites())
                .extracting(Suite::name).containsExactly("scale");
    }

    @Test
    void onlyPicksSuitesByNameInReportOrder() {
        Bench.Options options = Bench.Options.parse(new String[] {"--only", "rpc,limits", "--window", "smoke",
                "--out", "target/x"}, Bench.suites());

        assertThat(options.suites()).extracting(Suite::name).containsExactly("limits", "rpc");
        assertThat(options.window()).isEqualTo(Window.SMOKE);
        assertThat(options.out()).isEqualTo(Path.of("target/x"));
    }

    @Test
    void anUnknownSuiteOrOptionIsRefusedWithItsName() {
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"--only", "rpcc"}, Bench.suites()))
                .hasMessageContaining("no suite named 'rpcc'");
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"--fast", "yes"}, Bench.suites()))
                .hasMessageContaining("unknown option --fast");
        assertThatThrownBy(() -> Bench.Options.parse(new String[] {"--window"}, Bench.suites()))
                .hasMessageContaining("--window needs a value");
    }

    @Test
    void thePreambleGivesEachSectionsTimeOnALineOfItsOwnAndTheirSum() {
        Map<String, Duration> took = new LinkedHashMap<>();
        took.put("limits", Duration.ofSeconds(60));
        took.put("rpc", Duration.ofSeconds(180));
        took.put("pekko", Duration.ofSeconds(125));

        assertThat(Bench.timings(took)).isEqualTo("""
                - Time: 365 s (6 min 05 s) for the sections, each:
                  - limits: 60 s
                  - rpc: 180 s
                  - pekko: 125 s
                """);
    }

    @Test
    void aRunOnABusyMachineSaysItsFiguresAreNotRepresentative() {
        assertThat(Bench.busyWarning(0.35)).contains("busy").contains("35%").contains("not representative");
        assertThat(Bench.busyWarning(Bench.BUSY_SHARE / 2)).isEmpty();
        assertThat(Bench.busyWarning(Double.NaN)).as("unknown").isEmpty();
    }
}
