package io.braid.bench.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.testkit.Await;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class OtherWorkTest {
    private static final String MARKER = "braid-otherwork-spinner";

    @Test
    void aBusyLoopOutsideThisProcessTreeCountsAsOtherWork() throws Exception {
        OtherWork before = OtherWork.read();
        assertThat(before).as("/proc is readable on the machines we run on").isNotNull();
        // Double fork: the spinner is re-parented away from this JVM, so it is not one of our descendants.
        Process launcher = new ProcessBuilder("sh", "-c",
                "(timeout 1.5 sh -c 'while :; do :; done' " + MARKER + ") >/dev/null 2>&1 &").start();
        assertThat(launcher.waitFor()).isZero();
        Await.until(Duration.ofSeconds(2), "the spinner runs", this::spinnerRuns);
        Await.until(Duration.ofSeconds(10), "the spinner ends", () -> !spinnerRuns());
        double share = OtherWork.read().shareSince(before);

        // One of the machine's CPUs spun for ~1.5 s of the interval: a large share of all CPU time.
        assertThat(share).as("share of CPU time on other work").isGreaterThan(0.15);
    }

    private boolean spinnerRuns() {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains(MARKER)
                || p.info().command().orElse("").contains(MARKER));
    }
}
