package io.braid.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus alert rules in {@code ops/prometheus/braid-alerts.yml}: promtool accepts them,
 * their unit tests ({@code braid-alerts.test.yml}: input series, the alerts expected at given
 * times, and times and series at which none may fire) pass, every alert has such tests, and every
 * metric they query is one a real node's {@code /metrics} shows.
 */
class OpsAlertRulesTest {
    private static final Path RULES_DIR = ExportedMetrics.OPS.resolve("prometheus");
    private static final Path RULES = RULES_DIR.resolve("braid-alerts.yml");
    private static final Path RULE_TESTS = RULES_DIR.resolve("braid-alerts.test.yml");
    private static final Pattern ALERT = Pattern.compile("^\\s*- alert:\\s*(\\S+)\\s*$");
    private static final Pattern EXPR = Pattern.compile("^(\\s*)expr:\\s*(.*)$");

    private static Set<String> exported;

    @BeforeAll
    static void scrapeARealNode() {
        exported = ExportedMetrics.ofARealNode();
    }

    @Test
    void promtoolAcceptsTheRules() {
        Promtool.Verdict verdict = Promtool.run(RULES_DIR, "check", "rules", RULES.getFileName().toString());
        assertThat(verdict.exitCode()).as("promtool check rules: %s", verdict.output()).isZero();
        assertThat(verdict.output()).contains("SUCCESS: " + alerts().size() + " rules found");
    }

    @Test
    void theRulesUnitTestsPass() {
        Promtool.Verdict verdict = Promtool.run(RULES_DIR, "test", "rules", RULE_TESTS.getFileName().toString());
        assertThat(verdict.exitCode()).as("promtool test rules: %s", verdict.output()).isZero();
        assertThat(verdict.output()).contains("SUCCESS");
    }

    @Test
    void everyAlertIsTestedFiringAndNotFiring() throws IOException {
        String tests = Files.readString(RULE_TESTS);
        for (String alert : alerts().keySet()) {
            Matcher fires = Pattern.compile("alertname: " + alert + "\\s*\\n\\s*exp_alerts:\\s*\\n\\s*- exp_labels")
                    .matcher(tests);
            Matcher silent = Pattern.compile("alertname: " + alert + "\\s*\\n\\s*exp_alerts: \\[]").matcher(tests);
            assertThat(fires.find()).as("a test in which %s fires", alert).isTrue();
            assertThat(silent.find()).as("a test in which %s must not fire", alert).isTrue();
        }
    }

    @Test
    void everyMetricTheRulesQueryIsOneBraidExports() {
        Map<String, String> alerts = alerts();
        assertThat(alerts).containsKeys("BraidServiceWithoutLeader", "BraidCallsRefusedUnavailable",
                "BraidDeadLettersGrowing", "BraidBacklogGrowing", "BraidRedisUnreachable", "BraidNodeSelfFenced",
                "BraidHandoffsFailing");
        alerts.forEach((alert, expr) -> {
            Set<String> queried = PromQl.metricNames(expr);
            assertThat(queried).as("metrics %s queries", alert).isNotEmpty();
            // "up" is Prometheus's own series of every scrape.
            queried.stream().filter(name -> !name.equals("up")).forEach(name -> assertThat(exported)
                    .as("%s queries %s; a node's /metrics shows %s", alert, name, exported).contains(name));
        });
    }

    @Test
    void theNameReaderFindsMetricsAndNothingElse() {
        assertThat(PromQl.metricNames("sum by (service) (rate(braid_rpc_client_calls_seconds_count{code=\"UNAVAILABLE\","
                + " method=~\"a|b\"}[5m])) / on (service) group_left max without (x) (up offset 5m) > 0.05"
                + " and x_y:z unless delta(braid_pubsub_dead_letters[$__rate_interval]) > bool 1e3"))
                .containsExactlyInAnyOrder("braid_rpc_client_calls_seconds_count", "up", "x_y:z",
                        "braid_pubsub_dead_letters");
    }

    /** Alert name → its expression (single-line, or a block scalar "|" of the lines indented deeper). */
    private static Map<String, String> alerts() {
        List<String> lines;
        try {
            lines = Files.readAllLines(RULES);
        } catch (IOException e) {
            throw new AssertionError("cannot read " + RULES, e);
        }
        Map<String, String> alerts = new LinkedHashMap<>();
        String alert = null;
        for (int i = 0; i < lines.size(); i++) {
            Matcher a = ALERT.matcher(lines.get(i));
            if (a.matches()) {
                alert = a.group(1);
                continue;
            }
            Matcher e = EXPR.matcher(lines.get(i));
            if (!e.matches() || alert == null) {
                continue;
            }
            String expr = e.group(2).trim();
            if (expr.equals("|")) {
                int indent = e.group(1).length();
                List<String> block = new ArrayList<>();
                while (i + 1 < lines.size() && (lines.get(i + 1).isBlank()
                        || lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() > indent)) {
                    block.add(lines.get(++i).trim());
                }
                expr = String.join(" ", block);
            }
            alerts.put(alert, expr);
            alert = null;
        }
        return alerts;
    }
}
