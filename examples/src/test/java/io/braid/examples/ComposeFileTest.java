package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.examples.monitor.MonitorService;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine runs here, so this checks what can go wrong without one: every environment
 * variable docker-compose.yml passes to one of our services is a variable that service's entry
 * point reads, and every service runs a command the image's entry point knows.
 */
class ComposeFileTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    /** A service of the compose file: its command and its environment. */
    record Service(String name, boolean built, List<String> command, Map<String, String> environment, int replicas) {
    }

    @Test
    void everyVariableComposePassesIsReadByThatServicesEntryPoint() throws IOException {
        Map<String, Service> services = services(Files.readAllLines(ROOT.resolve("docker-compose.yml")));

        assertThat(services).containsKeys("redis", "gateway", "logic", "chat", "bots");
        assertThat(services.get("logic").replicas()).isEqualTo(3);
        for (Service service : services.values()) {
            if (!service.built()) {
                continue; // redis: not ours
            }
            assertThat(service.command()).as("command of %s", service.name()).isNotEmpty();
            Main.Command command = Main.command(service.command().get(0)).orElseThrow(() -> new AssertionError(
                    service.name() + " runs '" + service.command().get(0) + "', which Main does not know"));
            Set<String> read = command.settings().stream().map(Setting::env).collect(Collectors.toSet());
            assertThat(service.environment().keySet()).as("variables compose passes to %s that its entry point reads",
                    service.name()).isNotEmpty().allSatisfy(variable -> assertThat(read)
                    .as("%s sets %s, which '%s' does not read", service.name(), variable, command.name()).contains(variable));
            // Values must parse too: run them through the entry point's own settings.
            Settings settings = Settings.parse(command.name(), command.settings(), new String[0], service.environment());
            command.settings().stream().filter(s -> service.environment().containsKey(s.env()))
                    .forEach(s -> assertThat(settings.get(s)).isEqualTo(service.environment().get(s.env())));
        }
    }

    @Test
    void theDockerfileRunsTheExamplesJarThatTheBuildMakes() throws IOException {
        String dockerfile = Files.readString(ROOT.resolve("examples/Dockerfile"));
        assertThat(dockerfile).contains("-pl examples -am package").contains("examples/target/braid-examples.jar")
                .contains("examples/target/lib").contains("\"-jar\", \"/app/braid-examples.jar\"");
    }

    @Test
    void theMonitorTakesItsBearerTokenFromTheEnvironmentComposeRunsIn() throws IOException {
        Service monitor = services(Files.readAllLines(ROOT.resolve("docker-compose.yml"))).get("monitor");
        assertThat(monitor).as("the monitor service").isNotNull();
        String token = "token-from-the-env-file-0123456789";
        Map<String, String> environment = interpolate(monitor.environment(), Map.of("BRAID_MONITOR_TOKEN", token));

        Settings settings = Settings.parse(MonitorService.SERVICE, MonitorService.SETTINGS, new String[0], environment);
        assertThat(settings.get(MonitorService.HTTP_HOST)).as("the container's monitor binds every interface")
                .isEqualTo("0.0.0.0");
        assertThat(settings.get(MonitorService.TOKEN)).as("the token the entry point reads").isEqualTo(token);

        // Without it in the environment (or .env), compose refuses to start rather than run an open monitor.
        assertThatThrownBy(() -> interpolate(monitor.environment(), Map.of()))
                .hasMessageContaining("BRAID_MONITOR_TOKEN").hasMessageContaining(".env");
        assertThatThrownBy(() -> interpolate(monitor.environment(), Map.of("BRAID_MONITOR_TOKEN", "")))
                .hasMessageContaining("BRAID_MONITOR_TOKEN");
    }

    @Test
    void theInterpolationThisTestUsesFollowsCompose() {
        Map<String, String> env = Map.of("SET", "v", "EMPTY", "");
        assertThat(interpolate("a${SET}b$SET$$x", env)).isEqualTo("avbv$x");
        assertThat(interpolate("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${SET:-d}", env)).isEqualTo("d d  d v");
        assertThat(interpolate("${EMPTY?e}", env)).isEmpty();
        assertThatThrownBy(() -> interpolate("${EMPTY:?say why}", env)).hasMessageContaining("say why");
        assertThatThrownBy(() -> interpolate("${UNSET?say why}", env)).hasMessageContaining("say why");
    }

    private static Map<String, String> interpolate(Map<String, String> values, Map<String, String> env) {
        Map<String, String> done = new LinkedHashMap<>();
        values.forEach((key, value) -> done.put(key, interpolate(value, env)));
        return done;
    }

    private static final Pattern VARIABLE = Pattern.compile(
            "\\$(?:\\$|\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}|([A-Za-z_][A-Za-z0-9_]*))");

    /**
     * Compose's interpolation of one value: {@code $$}, {@code $VAR}, {@code ${VAR}}, {@code ${VAR:-default}}
     * (unset or empty), {@code ${VAR-default}} (unset), {@code ${VAR:?error}}, {@code ${VAR?error}}.
     */
    static String interpolate(String value, Map<String, String> env) {
        Matcher m = VARIABLE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(4);
            String replacement;
            if (name == null) {
                replacement = "$";
            } else {
                String set = env.get(name);
                String operator = m.group(2);
                boolean missing = operator != null && operator.startsWith(":") ? set == null || set.isEmpty() : set == null;
                if (operator == null || !missing) {
                    replacement = set == null ? "" : set;
                } else if (operator.endsWith("-")) {
                    replacement = m.group(3);
                } else {
                    throw new IllegalArgumentException("required variable " + name + " is missing a value: " + m.group(3));
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static final Pattern KEY = Pattern.compile("^( *)([A-Za-z0-9_.-]+):\\s*(.*)$");

    /**
     * Reads the services of a compose file written in the block style this repository uses (two
     * spaces per level, {@code command} as a flow list, {@code environment} as a map). Not a YAML
     * parser: anything else fails the test loudly rather than being misread.
     */
    static Map<String, Service> services(List<String> lines) {
        Map<String, Service> services = new LinkedHashMap<>();
        String service = null;
        String section = null;
        boolean built = false;
        List<String> command = List.of();
        Map<String, String> environment = new LinkedHashMap<>();
        int replicas = 1;
        boolean inServices = false;
        for (String raw : lines) {
            String line = raw.replaceFirst("\\s+#.*$", "");
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            if (line.trim().startsWith("- ")) {
                continue; // list items (ports, depends_on) carry no variables
            }
            Matcher m = KEY.matcher(line);
            assertThat(m.matches()).as("a line this reader understands: '%s'", raw).isTrue();
            int indent = m.group(1).length();
            String key = m.group(2);
            String value = unquote(m.group(3).trim());
            if (indent == 0) {
                inServices = key.equals("services");
                continue;
            }
            if (!inServices) {
                continue;
            }
            if (indent == 2) {
                if (service != null) {
                    services.put(service, new Service(service, built, command, environment, replicas));
                }
                service = key;
                built = false;
                command = List.of();
                environment = new LinkedHashMap<>();
                replicas = 1;
                section = null;
            } else if (indent == 4) {
                section = key;
                if (key.equals("build")) {
                    built = true;
                } else if (key.equals("command")) {
                    command = flowList(value);
                }
            } else if (indent == 6 && "environment".equals(section)) {
                environment.put(key, value);
            } else if (indent == 6 && "deploy".equals(section) && key.equals("replicas")) {
                replicas = Integer.parseInt(value);
            }
        }
        if (service != null) {
            services.put(service, new Service(service, built, command, environment, replicas));
        }
        return services;
    }

    private static List<String> flowList(String value) {
        assertThat(value).as("command as a flow list [\"...\"]").startsWith("[").endsWith("]");
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
