package io.braid.bench.scale;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.bench.core.Report;
import io.braid.bench.core.Window;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scale section's sizes, goal lines and tables (the measuring itself runs in the smoke window). */
class ScaleSuiteTest {
    private static LinkScale.Result linked(double redisBytes, double nearBytes) {
        return new LinkScale.Result("one Redis", 1_000_000, redisBytes, nearBytes, 1_000_000, 30_000, 40_000, 0, 0, null,
                25, 20, 8, 0.1);
    }

    @Test
    void aMillionLinksAndNodesIn20ServicesAtFullAFewThousandInTheSmoke() {
        ScaleSuite.Size full = ScaleSuite.size(Window.FULL);
        assertThat(full.links()).isEqualTo(1_000_000);
        assertThat(full.nodes()).containsExactly(40, 80);
        assertThat(full.services()).isEqualTo(20);
        assertThat(full.stormPlayers()).isEqualTo(100_000);
        ScaleSuite.Size smoke = ScaleSuite.size(Window.SMOKE);
        assertThat(smoke.links()).isLessThanOrEqualTo(10_000);
        assertThat(smoke.nodes()).allMatch(nodes -> nodes % smoke.services() == 0);
        assertThat(smoke.steady()).isLessThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(new ScaleSuite().optIn()).isTrue();
        assertThat(new ScaleSuite().inSmoke()).isTrue();
    }

    @Test
    void linksWithin120BytesOnRedisAnd100OnTheHeapMeetTheGoals() {
        Report report = new Report();
        ScaleSuite.goals(report, List.of(linked(120, 100)));

        assertThat(report.markdown(""))
                .contains("- **met**: Scale: Redis memory per link, 1,000,000 links on one Redis: 120 B (goal ≤ 120 B)")
                .contains("- **met**: Scale: near-cache heap per entry, 1,000,000 entries (one Redis): 100 B "
                        + "(goal ≤ 100 B)")
                .contains("- **met**: Scale: failed links and unlinks (512 in flight) on one Redis: 0 (goal ≤ 0)");
    }

    @Test
    void aByteMoreOrAnEmptiedNearCacheMissesOrIsNotChecked() {
        Report report = new Report();
        ScaleSuite.goals(report, List.of(linked(121, 101), linked(100, Double.NaN)));

        assertThat(report.markdown(""))
                .contains("- **missed**: Scale: Redis memory per link, 1,000,000 links on one Redis: 121 B (goal ≤ 120 B)"
                        + " — " + ScaleSuite.REDIS_LAYOUT.text())
                .contains("- **missed**: Scale: near-cache heap per entry, 1,000,000 entries (one Redis): 101 B (goal ≤"
                        + " 100 B) — " + ScaleSuite.NEAR_CACHE_LAYOUT.text())
                .contains("- **not checked**: Scale: near-cache heap per entry");
    }

    @Test
    void aSmokeSizedRunChecksNoMemoryGoalButStillCountsFailures() {
        Report report = new Report();
        ScaleSuite.goals(report, List.of(new LinkScale.Result("one Redis", 2_000, 50, -600, 2_000, 1, 1, 1, 0,
                "RedisCommandTimeoutException", 1, 1, 1, 0)));

        assertThat(report.markdown(""))
                .contains("- **not checked**: Scale: memory per link and per near-cache entry on one Redis (2,000 links "
                        + "are too few to weigh; the goals need 100,000)")
                .contains("- **missed**: Scale: failed links and unlinks (512 in flight) on one Redis: 1 (goal ≤ 0)")
                .doesNotContain("**met**: Scale: near-cache");
    }

    @Test
    void theStormTableSaysHowLongAndWhatFailed() {
        String table = ScaleSuite.stormTable(List.of(new LoginStorm.Result("back", 100_000, 12.5, 1.04, 900, 45_000,
                3, 2, "BraidException{UNAVAILABLE: x}")));

        assertThat(table).contains("| back | 100,000 | 12.5 s | 8,000 | 1.04 | 900 | 45,000 | 3 (2) |")
                .contains("back: the first failure was `BraidException{UNAVAILABLE: x}`");
    }

    @Test
    void theTablesCarryEveryFigure() {
        String links = ScaleSuite.linksTable(List.of(linked(150, 180)));
        assertThat(links).contains("| one Redis | 1,000,000 | 150 | 180 (1,000,000) | 30,000 | 40,000 | 25.0 | 20.0 | 8.0 "
                + "| 0.1 | 0 / 0 |").doesNotContain("first failure");
        String failed = ScaleSuite.linksTable(List.of(new LinkScale.Result("one Redis", 10, 1, 1, 9, 1, 1, 1, 2,
                "RedisCommandTimeoutException", 1, 1, 1, 0)));
        assertThat(failed).contains("| 1 / 2 |").contains("On one Redis the first failure was `RedisCommandTimeoutException`");

        MembershipScale.Result membership = new MembershipScale.Result(200, 20, 250.5,
                Map.of("hgetall", 200.0, "evalsha", 6.0), 0.42, 1_234, new double[] {3_500, 3_900},
                new double[] {3_100, 3_200}, new double[] {3_300, 3_400});
        String table = ScaleSuite.membershipTable(membership, ScaleSuite.size(Window.FULL));
        assertThat(table).contains("| Redis commands per node per second, steady | 250.5 |")
                .contains("| Redis CPU at steady state (share of one core) | 42.0% |")
                .contains("| client CPU per node (this JVM's CPU / nodes), µs per second | 1,234 |")
                .contains("| crash heard by every other live node's watcher, ms | 3,500, 3,900 |")
                .contains("| new leader of the crashed node's service, ms | 3,300, 3,400 |")
                .contains("hgetall 200.00, evalsha 6.00");
    }
}
