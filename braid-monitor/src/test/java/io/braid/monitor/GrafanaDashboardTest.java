package io.braid.monitor;

import static io.braid.monitor.MonitorJson.list;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard in {@code ops/grafana/braid-dashboard.json}: a dashboard of the schema
 * current Grafana versions load, every panel querying the provisioned Prometheus data source with
 * a unit, the sections the ops team needs, and every metric its queries use one that a real
 * node's {@code /metrics} shows.
 */
class GrafanaDashboardTest {
    private static final Path DASHBOARD = ExportedMetrics.OPS.resolve("grafana/braid-dashboard.json");
    private static final Path DATASOURCE = ExportedMetrics.OPS.resolve(
            "grafana/provisioning/datasources/braid-prometheus.yml");

    private static Set<String> exported;
    private static Map<String, Object> dashboard;

    @BeforeAll
    static void readTheDashboardAndScrapeARealNode() throws IOException {
        dashboard = MonitorJson.parseObject(Files.readString(DASHBOARD));
        exported = ExportedMetrics.ofARealNode();
    }

    @Test
    void everyMetricTheDashboardQueriesIsOneBraidExports() {
        Set<String> queried = new HashSet<>();
        for (Map<String, Object> panel : panels()) {
            for (Map<String, Object> target : list(panel.get("targets"))) {
                Set<String> names = PromQl.metricNames((String) target.get("expr"));
                assertThat(names).as("metrics of %s", panel.get("title")).isNotEmpty();
                queried.addAll(names);
            }
        }
        queried.remove("up"); // Prometheus's own series of every scrape
        // A gateway's meters are braid-gateway's (this module cannot start a gateway): its
        // GatewayMetersTest checks those names against a real gateway's /metrics.
        queried.removeIf(name -> name.startsWith("braid_gateway_"));
        assertThat(exported).as("names a node's /metrics shows").containsAll(queried);
        assertThat(queried).as("every braid meter family has a panel").contains("braid_rpc_server_calls_seconds_count",
                "braid_rpc_server_calls_seconds", "braid_rpc_client_calls_seconds_count", "braid_rpc_client_calls_seconds",
                "braid_linkcache_lookups_total", "braid_linkcache_links", "braid_linkcache_distrusted_total",
                "braid_pubsub_published_total", "braid_pubsub_delivered_total", "braid_pubsub_redelivered_total",
                "braid_pubsub_dead_lettered_total", "braid_pubsub_backlog", "braid_pubsub_pending",
                "braid_pubsub_consumers", "braid_pubsub_dead_letters", "braid_discover_nodes",
                "braid_election_role", "braid_election_epoch", "braid_players_active",
                "braid_players_activations_total", "braid_players_handoffs_total", "braid_players_handoff_duration_seconds",
                "braid_players_saves_total", "braid_node_fenced", "braid_lane_run_seconds_count",
                "braid_lane_wait_seconds", "braid_lane_run_seconds", "braid_lane_depth", "braid_lane_depth_max");
    }

    @Test
    void everyPanelQueriesTheProvisionedDataSourceWithAUnit() throws IOException {
        String uid = provisionedDataSourceUid();
        Set<Long> ids = new HashSet<>();
        for (Map<String, Object> panel : panels()) {
            String title = (String) panel.get("title");
            assertThat(ids.add((Long) panel.get("id"))).as("panel id of %s is unique", title).isTrue();
            assertThat(panel.get("type")).as("type of %s", title).isIn("timeseries", "stat");
            assertThat(map(panel.get("datasource"))).as("data source of %s", title)
                    .containsEntry("type", "prometheus").containsEntry("uid", uid);
            assertThat((String) map(map(panel.get("fieldConfig")).get("defaults")).get("unit"))
                    .as("unit of %s", title).isNotBlank();
            assertThat((String) panel.get("description")).as("description of %s", title).isNotBlank();
            List<Map<String, Object>> targets = list(panel.get("targets"));
            assertThat(targets).as("queries of %s", title).isNotEmpty();
            Set<String> refIds = new HashSet<>();
            for (Map<String, Object> target : targets) {
                assertThat(map(target.get("datasource"))).containsEntry("uid", uid);
                assertThat(refIds.add((String) target.get("refId"))).as("refId in %s is unique", title).isTrue();
            }
            Map<String, Object> grid = map(panel.get("gridPos"));
            assertThat((Long) grid.get("x") + (Long) grid.get("w")).as("%s fits the 24 columns", title)
                    .isLessThanOrEqualTo(24);
        }
    }

    @Test
    void itIsADashboardCurrentGrafanaLoadsWithTheSectionsOpsNeeds() {
        assertThat((Long) dashboard.get("schemaVersion")).as("schemaVersion (Grafana 10 and 11 write 38 to 39)")
                .isBetween(36L, 41L);
        assertThat(dashboard).containsEntry("uid", "braid-cluster").containsEntry("title", "braid cluster");
        assertThat(dashboard).doesNotContainKey("id"); // provisioning assigns it
        List<String> rows = list(dashboard.get("panels")).stream().filter(p -> "row".equals(p.get("type")))
                .map(p -> (String) p.get("title")).toList();
        assertThat(rows).containsExactly("Cluster", "Players", "Lanes", "RPC methods", "Link cache", "Pub-sub", "Gateway");
        List<String> titles = panels().stream().map(p -> (String) p.get("title")).toList();
        assertThat(titles).contains("Nodes per service", "Leaders per service", "Server calls by method",
                "Server errors by method and code", "Server p99 by method", "Lookups by outcome",
                "Near-cache distrust (Redis)", "Backlog by channel", "Pending by channel", "Dead letters",
                "Active players", "Activations by how", "Handoffs by outcome", "Handoff p99", "Saves by outcome",
                "Fenced nodes", "Lane turns", "Lane wait p99", "Lane run p99", "Lane depth at entry");
        Map<String, String> units = new java.util.HashMap<>();
        panels().forEach(p -> units.put((String) p.get("title"),
                (String) map(map(p.get("fieldConfig")).get("defaults")).get("unit")));
        assertThat(units).containsEntry("Server p99 by method", "s").containsEntry("Server calls by method", "reqps")
                .containsEntry("Client error ratio by target", "percentunit").containsEntry("Lookups by outcome", "ops")
                .containsEntry("Handoff p99", "s").containsEntry("Handoffs by outcome", "ops")
                .containsEntry("Lane wait p99", "s").containsEntry("Lane run p99", "s").containsEntry("Lane turns", "ops");
    }

    /** Every panel that queries (rows' nested panels included, rows themselves left out). */
    private static List<Map<String, Object>> panels() {
        List<Map<String, Object>> panels = new ArrayList<>();
        for (Map<String, Object> panel : list(dashboard.get("panels"))) {
            if ("row".equals(panel.get("type"))) {
                panels.addAll(list(panel.get("panels")));
            } else {
                panels.add(panel);
            }
        }
        return panels;
    }

    private static String provisionedDataSourceUid() throws IOException {
        return Files.readAllLines(DATASOURCE).stream().map(String::trim).filter(l -> l.startsWith("uid:"))
                .map(l -> l.substring("uid:".length()).trim()).findFirst()
                .orElseThrow(() -> new AssertionError("no uid in " + DATASOURCE));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }
}
