package io.braid.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.bench.core.Suite;
import io.braid.bench.core.Window;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
    @Test
    void withoutOptionsEverySuiteButTheOptInOnesRunsAtTheFullWindowIntoTheWorkingDirectory() {
        Bench.Options options = Bench.Options.parse(new String[0], Bench.suites());

        assertThat(options.window()).isEqualTo(Window.FULL);
        assertThat(options.suites()).extracting(Suite::name).contains("limits", "rpc");
        assertThat(options.out()).isEqualTo(Path.of("."));
    }

    @Test
    void anOptInSuiteRunsOnlyWhenNamed() {
        assertThat(Bench.Options.parse(new String[0], Bench.suites()).suites()).extracting(Suite::name)
                .doesNotContain("lanes", "handoff", "pekko", "gateway");
        assertThat(Bench.Options.parse(new String[] {"--window", "smoke"}, Bench.suites()).suites())
                .extracting(Suite::name).doesNotContain("lanes", "handoff", "pekko", "gateway");
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
    void aRunOnABusyMachineSaysItsFiguresAreNotRepresentative() {
        assertThat(Bench.busyWarning(0.35)).contains("busy").contains("35%").contains("not representative");
        assertThat(Bench.busyWarning(Bench.BUSY_SHARE / 2)).isEmpty();
        assertThat(Bench.busyWarning(Double.NaN)).as("unknown").isEmpty();
    }
}
