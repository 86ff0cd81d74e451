package io.braid.examples.monitor;

import io.braid.examples.NodeSettings;
import io.braid.examples.Setting;
import io.braid.examples.Settings;
import io.braid.monitor.MonitorOptions;
import io.braid.runtime.Braid;
import java.util.ArrayList;
import java.util.List;

/**
 * A node of service {@value #SERVICE} that serves the cluster dashboard: any node can do it
 * ({@code Braid.Builder.monitor}); a node of its own keeps the page up while game nodes come and go.
 */
public final class MonitorService implements AutoCloseable {
    public static final String SERVICE = "monitor";

    public static final Setting HTTP_HOST = new Setting("--monitor-host", "MONITOR_HTTP_HOST",
            MonitorOptions.DEFAULT_HOST, "address the dashboard binds (0.0.0.0 in containers: then a token is required)");
    public static final Setting HTTP_PORT = new Setting("--monitor-port", "MONITOR_HTTP_PORT",
            Integer.toString(MonitorOptions.DEFAULT_PORT), "dashboard port");
    public static final Setting TOKEN = new Setting("--monitor-token", "MONITOR_TOKEN", null,
            "bearer token (16..512 characters) for the dashboard's data and actions (health checks stay open)");
    public static final Setting UNAUTHENTICATED_READS = new Setting("--monitor-unauthenticated-reads",
            "MONITOR_UNAUTHENTICATED_READS", "false",
            "serve the dashboard's data without the token, even beyond loopback (drain and weight never; logged as a warning)");

    public static final List<Setting> SETTINGS;

    static {
        List<Setting> all = new ArrayList<>(NodeSettings.ALL);
        all.addAll(List.of(HTTP_HOST, HTTP_PORT, TOKEN, UNAUTHENTICATED_READS));
        SETTINGS = List.copyOf(all);
    }

    private final Braid braid;

    private MonitorService(Braid braid) {
        this.braid = braid;
    }

    /** Starts a monitor node from {@code builder} (plane and address already set). */
    public static MonitorService start(Braid.Builder builder, MonitorOptions options) {
        return new MonitorService(builder.service(SERVICE).monitor(options).start());
    }

    public Braid braid() {
        return braid;
    }

    /** Where the dashboard is, e.g. {@code http://127.0.0.1:9999/}. */
    public String dashboardUrl() {
        return braid.monitorAddress()
                .map(address -> "http://" + address.getHostString() + ":" + address.getPort() + "/")
                .orElse("(no dashboard)");
    }

    @Override
    public void close() {
        braid.close();
    }

    /**
     * The dashboard's options from {@code settings}. A host beyond loopback without a token (and
     * without {@link #UNAUTHENTICATED_READS}) is refused when the node starts, not here.
     */
    public static MonitorOptions options(Settings settings) {
        MonitorOptions options = MonitorOptions.DEFAULT.withHost(settings.get(HTTP_HOST))
                .withPort(settings.getInt(HTTP_PORT, 0, 65_535));
        if (settings.has(TOKEN)) {
            options = options.withBearerToken(settings.get(TOKEN));
        }
        if (settings.getBoolean(UNAUTHENTICATED_READS)) {
            options = options.allowUnauthenticatedReads();
        }
        return options;
    }

    /** Runs one monitor node until SIGTERM or, with --exit-on-stdin-eof, until stdin closes. */
    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(SERVICE, SETTINGS, args, System.getenv());
        MonitorService monitor = start(NodeSettings.builder(SERVICE, settings), options(settings));
        System.out.printf("ready: monitor %s, dashboard at %s on %s%n", monitor.braid().node().id(),
                monitor.dashboardUrl(), NodeSettings.plane(settings));
        System.out.flush();
        NodeSettings.runUntilStopped(settings, monitor::close);
    }
}
