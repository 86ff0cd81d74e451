package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import io.braid.examples.monitor.MonitorService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No Docker engine runs here, so this checks what would break the Prometheus and Grafana of
 * docker-compose.yml without one: every scrape target of ops/prometheus/prometheus.yml is a compose
 * service whose monitor listens on that port; every file the configurations name inside the
 * containers is mounted from a file of ops/ that exists; the scrape's bearer token is the secret
 * made of the variable the monitor reads its token from; Prometheus accepts the configuration as
 * the container sees it ({@code promtool check config}); Grafana's data source is the prometheus
 * service and its uid the one the dashboard queries.
 */
class ComposeMonitoringStackTest {
    private static final Path ROOT = ComposeFileTest.ROOT;
    private static final Pattern KEY = Pattern.compile("^( *)([A-Za-z0-9_.-]+):\\s*(.*)$");
    private static final Pattern ITEM = Pattern.compile("^( *)- (.*)$");
    private static final Pattern LIST_KEY = Pattern.compile("^( *)(?:- )?([A-Za-z0-9_.-]+):\\s*$");

    /** One service's list sections (volumes, secrets, ports, depends_on) and plain values (image). */
    record Service(Map<String, List<String>> lists, Map<String, String> values) {
        List<String> list(String name) {
            return lists.getOrDefault(name, List.of());
        }

        /** Container path → host path (relative to the compose file) of each bind mount. */
        Map<String, Path> mounts() {
            Map<String, Path> mounts = new LinkedHashMap<>();
            for (String volume : list("volumes")) {
                String[] parts = volume.split(":");
                assertThat(parts.length).as("volume '%s' as source:target[:ro]", volume).isBetween(2, 3);
                assertThat(parts[0]).as("volume '%s' binds a path of this repository", volume).startsWith("./");
                mounts.put(parts[1], ROOT.resolve(parts[0].substring(2)).normalize());
            }
            return mounts;
        }
    }

    @Test
    void everyScrapeTargetIsAServiceWhoseMonitorListensOnThatPort() throws IOException {
        Map<String, ComposeFileTest.Service> environments = ComposeFileTest.services(compose());
        List<String> targets = listUnder(lines("ops/prometheus/prometheus.yml"), "targets");
        assertThat(targets).as("scrape targets").isNotEmpty();
        for (String target : targets) {
            String[] hostPort = target.split(":");
            assertThat(hostPort).as("target %s as service:port", target).hasSize(2);
            ComposeFileTest.Service service = environments.get(hostPort[0]);
            assertThat(service).as("target %s names a compose service", target).isNotNull();
            String port = service.environment().getOrDefault(MonitorService.HTTP_PORT.env(),
                    MonitorService.HTTP_PORT.defaultValue());
            assertThat(port).as("the port %s's monitor listens on (%s)", hostPort[0], MonitorService.HTTP_PORT.env())
                    .isEqualTo(hostPort[1]);
            assertThat(service.environment().get(MonitorService.HTTP_HOST.env()))
                    .as("%s's monitor binds every interface of its container, so Prometheus reaches it", hostPort[0])
                    .isEqualTo("0.0.0.0");
        }
    }

    @Test
    void theScrapeCarriesTheMonitorsTokenAsASecretMadeOfTheSameVariable() throws IOException {
        Map<String, Service> services = services();
        Map<String, String> secrets = topLevelSecrets();
        String credentials = value(lines("ops/prometheus/prometheus.yml"), "credentials_file");
        assertThat(credentials).as("credentials_file").startsWith("/run/secrets/");
        String secret = credentials.substring("/run/secrets/".length());
        assertThat(services.get("prometheus").list("secrets")).as("secrets of prometheus").contains(secret);
        assertThat(secrets).as("top-level secrets").containsKey(secret);

        // The monitor's token and the secret are the same value whatever .env says.
        String token = "the-token-in-dot-env-0123456789";
        Map<String, String> env = Map.of(secrets.get(secret), token);
        String monitorToken = ComposeFileTest.interpolate(ComposeFileTest.services(compose()).get("monitor")
                .environment().get(MonitorService.TOKEN.env()), env);
        assertThat(monitorToken).isEqualTo(token);
    }

    @Test
    void everyPathTheContainersReadIsMountedFromAFileOfOpsThatExists() throws IOException {
        Map<String, Service> services = services();
        for (String name : List.of("prometheus", "grafana")) {
            Service service = services.get(name);
            assertThat(service).as("compose service %s", name).isNotNull();
            assertThat(service.values().get("image")).as("%s's image, with a version", name).matches("[a-z/]+:v?[0-9.]+");
            assertThat(service.mounts()).as("mounts of %s", name).isNotEmpty().allSatisfy((target, source) -> {
                assertThat(source).as("%s mounts %s at %s", name, source, target).exists();
                assertThat(source.startsWith(ROOT.resolve("ops"))).as("%s comes from ops/", source).isTrue();
            });
        }
        Map<String, Path> prometheus = services.get("prometheus").mounts();
        List<String> prometheusCommand = flowList(services.get("prometheus").values().get("command"));
        String config = prometheusCommand.stream().filter(a -> a.startsWith("--config.file=")).findFirst()
                .orElseThrow().substring("--config.file=".length());
        assertThat(prometheus).as("prometheus's --config.file").containsKey(config);
        assertThat(prometheus.get(config)).isEqualTo(ROOT.resolve("ops/prometheus/prometheus.yml"));
        for (String rules : listUnder(lines("ops/prometheus/prometheus.yml"), "rule_files")) {
            assertThat(prometheus).as("rule file %s is mounted", rules).containsKey(rules);
        }

        Map<String, Path> grafana = services.get("grafana").mounts();
        assertThat(grafana).containsKeys("/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards");
        assertThat(grafana.get("/etc/grafana/provisioning/datasources")).isDirectory();
        String dashboards = value(lines("ops/grafana/provisioning/dashboards/braid.yml"), "path");
        List<String> dashboardFiles = grafana.keySet().stream().filter(t -> t.startsWith(dashboards + "/")).toList();
        assertThat(dashboardFiles).as("dashboards mounted in the provider's folder %s", dashboards)
                .containsExactly(dashboards + "/braid-dashboard.json");
        assertThat(grafana.get(dashboardFiles.get(0))).isEqualTo(ROOT.resolve("ops/grafana/braid-dashboard.json"));
        assertThat(ComposeFileTest.services(compose()).get("grafana").environment())
                .containsEntry("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", dashboardFiles.get(0));
    }

    @Test
    void grafanasDataSourceIsThePrometheusServiceWithTheUidTheDashboardQueries() throws IOException {
        Map<String, Service> services = services();
        List<String> datasource = lines("ops/grafana/provisioning/datasources/braid-prometheus.yml");
        assertThat(value(datasource, "url")).isEqualTo("http://prometheus:9090");
        assertThat(flowList(services.get("prometheus").values().get("command")))
                .noneMatch(a -> a.startsWith("--web.listen-address")); // so Prometheus listens on 9090
        assertThat(services.get("grafana").list("depends_on")).contains("prometheus");
        String uid = value(datasource, "uid");
        Map<String, Object> dashboard = new Gson().fromJson(
                Files.readString(ROOT.resolve("ops/grafana/braid-dashboard.json")), new TypeToken<Map<String, Object>>() { });
        List<Object> uids = new ArrayList<>();
        collectDataSourceUids(dashboard, uids);
        assertThat(uids).as("data sources the dashboard names").isNotEmpty().containsOnly(uid);
    }

    @Test
    void prometheusAcceptsItsConfigurationAsTheContainerSeesIt(@TempDir Path dir) throws Exception {
        Map<String, Path> mounts = services().get("prometheus").mounts();
        Path token = dir.resolve("token");
        Files.writeString(token, "a-token-for-the-check-0123456789");
        String config = Files.readString(ROOT.resolve("ops/prometheus/prometheus.yml"));
        for (Map.Entry<String, Path> mount : mounts.entrySet()) {
            config = config.replace(mount.getKey(), mount.getValue().toString());
        }
        config = config.replace("/run/secrets/braid_monitor_token", token.toString());
        Path rewritten = dir.resolve("prometheus.yml");
        Files.writeString(rewritten, config);

        Process promtool;
        try {
            promtool = new ProcessBuilder("promtool", "check", "config", rewritten.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed (apt-get install prometheus; .ci/run does this)", e);
        }
        String output = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(promtool.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        assertThat(promtool.exitValue()).as("promtool check config: %s", output).isZero();
        assertThat(output).contains("SUCCESS: 1 rule files found");
    }

    @SuppressWarnings("unchecked")
    private static void collectDataSourceUids(Object node, List<Object> uids) {
        if (node instanceof Map<?, ?> map) {
            if (map.get("datasource") instanceof Map<?, ?> ds) {
                uids.add(ds.get("uid"));
            }
            map.values().forEach(v -> collectDataSourceUids(v, uids));
        } else if (node instanceof List<?> list) {
            list.forEach(v -> collectDataSourceUids(v, uids));
        }
    }

    private static List<String> compose() throws IOException {
        return Files.readAllLines(ROOT.resolve("docker-compose.yml"));
    }

    private static List<String> lines(String path) {
        try {
            return Files.readAllLines(ROOT.resolve(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Services of the compose file (block style, two spaces a level): lists and scalar values of each. */
    private static Map<String, Service> services() throws IOException {
        Map<String, Service> services = new LinkedHashMap<>();
        boolean inServices = false;
        Service service = null;
        String section = null;
        for (String raw : compose()) {
            String line = raw.replaceFirst("\\s+#.*$", "");
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            Matcher item = ITEM.matcher(line);
            if (item.matches()) {
                if (inServices && service != null && item.group(1).length() == 6 && section != null) {
                    service.lists().computeIfAbsent(section, s -> new ArrayList<>()).add(unquote(item.group(2).trim()));
                }
                continue;
            }
            Matcher m = KEY.matcher(line);
            assertThat(m.matches()).as("a line this reader understands: '%s'", raw).isTrue();
            int indent = m.group(1).length();
            if (indent == 0) {
                inServices = m.group(2).equals("services");
            } else if (inServices && indent == 2) {
                service = new Service(new LinkedHashMap<>(), new LinkedHashMap<>());
                services.put(m.group(2), service);
            } else if (inServices && indent == 4) {
                section = m.group(2);
                service.values().put(section, unquote(m.group(3).trim()));
            }
        }
        return services;
    }

    /** The top-level secrets: name → the environment variable each is made of. */
    private static Map<String, String> topLevelSecrets() throws IOException {
        Map<String, String> secrets = new LinkedHashMap<>();
        boolean inSecrets = false;
        String secret = null;
        for (String raw : compose()) {
            Matcher m = KEY.matcher(raw.replaceFirst("\\s+#.*$", ""));
            if (!m.matches() || raw.stripLeading().startsWith("#")) {
                continue;
            }
            int indent = m.group(1).length();
            if (indent == 0) {
                inSecrets = m.group(2).equals("secrets");
            } else if (inSecrets && indent == 2) {
                secret = m.group(2);
            } else if (inSecrets && indent == 4 && m.group(2).equals("environment")) {
                secrets.put(secret, unquote(m.group(3).trim()));
            }
        }
        return secrets;
    }

    /** The items of the list under {@code key} (key on a line of its own, perhaps a list item, items below it). */
    private static List<String> listUnder(List<String> lines, String key) {
        List<String> items = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = LIST_KEY.matcher(lines.get(i));
            if (m.matches() && m.group(2).equals(key)) {
                int indent = m.group(1).length();
                for (int j = i + 1; j < lines.size(); j++) {
                    String line = lines.get(j);
                    if (line.isBlank() || line.stripLeading().startsWith("#")) {
                        continue;
                    }
                    Matcher item = ITEM.matcher(line);
                    if (!item.matches() || item.group(1).length() < indent) {
                        break;
                    }
                    items.add(unquote(item.group(2).trim()));
                }
            }
        }
        return items;
    }

    /** The value of the one {@code key: value} line for {@code key} (a list item's first key counts). */
    private static String value(List<String> lines, String key) {
        List<String> values = new ArrayList<>();
        Pattern pattern = Pattern.compile("^\\s*(?:- )?" + Pattern.quote(key) + ":\\s*(\\S.*)$");
        for (String line : lines) {
            Matcher m = pattern.matcher(line);
            if (m.matches()) {
                values.add(unquote(m.group(1).trim()));
            }
        }
        assertThat(values).as("values of %s", key).hasSize(1);
        return values.get(0);
    }

    private static List<String> flowList(String value) {
        assertThat(value).as("a flow list [\"...\"]").startsWith("[").endsWith("]");
        List<String> items = new ArrayList<>();
        for (String item : value.substring(1, value.length() - 1).split(",")) {
            items.add(unquote(item.trim()));
        }
        return items;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}
