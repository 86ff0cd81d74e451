package io.braid.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The chaos suite in the build: the schedule named by {@code -Dchaos.schedule} (default short:
 * every fault kind once) with the seed {@code -Dchaos.seed} (default 42), on one redis-server or,
 * with {@code -Dchaos.redis=cluster}, a Redis Cluster. Writes CHAOS.md at the repository root (a
 * Cluster run: braid-chaos/CHAOS-cluster.md) and fails when any checker found a violation.
 */
class ChaosSuiteTest {
    @Test
    void theClusterKeepsOneOwnerPerPlayerLosesNoMessageAndHealsAfterEveryFault() throws Exception {
        boolean longSchedule = "long".equals(System.getProperty("chaos.schedule", "short"));
        long seed = Long.getLong("chaos.seed", 42);
        Duration length = Duration.ofMinutes(Long.getLong("chaos.minutes", 9));
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        Path work = Files.createDirectories(module.resolve("target/chaos"));

        boolean cluster = "cluster".equals(System.getProperty("chaos.redis", "single"));
        ChaosReport report = ChaosRun.run(ChaosRun.Settings.defaults(seed, longSchedule, length, work).withCluster(cluster));
        report.write(cluster ? module.resolve("CHAOS-cluster.md") : module.getParent().resolve("CHAOS.md"));
        System.out.println(report.markdown());

        assertThat(report.violations()).as("checker violations (see CHAOS.md; node logs in %s)", work).isEmpty();
    }
}
