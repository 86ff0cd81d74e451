package io.braid.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.examples.monitor.MonitorService;
import io.braid.monitor.MonitorOptions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The monitor's entry point, given its environment as compose gives it (in memory, a free port). */
class MonitorServiceTest {
    private static final String TOKEN = "entry-point-token-0123456789";

    @Test
    void onTheNetworkWithoutATokenTheEntryPointRefusesToStart() {
        Settings settings = settings(Map.of("MONITOR_HTTP_HOST", "0.0.0.0"));
        assertThatThrownBy(() -> start(settings)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("monitor host 0.0.0.0").hasMessageContaining("no bearer token");
    }

    @Test
    void theTokenComesFromTheEnvironment() {
        Settings settings = settings(Map.of("MONITOR_HTTP_HOST", "0.0.0.0", "MONITOR_TOKEN", TOKEN));
        MonitorOptions options = MonitorService.options(settings);
        assertThat(options.bearerToken()).contains(TOKEN);
        assertThat(options.unauthenticatedReads()).isFalse();
        try (MonitorService monitor = start(settings)) {
            assertThat(monitor.braid().monitorAddress()).isPresent();
        }
    }

    @Test
    void theOptOutComesFromTheEnvironmentToo() {
        Settings settings = settings(Map.of("MONITOR_HTTP_HOST", "0.0.0.0", "MONITOR_UNAUTHENTICATED_READS", "true"));
        assertThat(MonitorService.options(settings).unauthenticatedReads()).isTrue();
        assertThat(MonitorService.options(settings).bearerToken()).isEmpty();
        try (MonitorService monitor = start(settings)) {
            assertThat(monitor.braid().monitorAddress()).isPresent();
        }
    }

    private static Settings settings(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("MONITOR_HTTP_PORT", "0");
        return Settings.parse(MonitorService.SERVICE, MonitorService.SETTINGS, new String[0], all);
    }

    private static MonitorService start(Settings settings) {
        return MonitorService.start(NodeSettings.builder(MonitorService.SERVICE, settings), MonitorService.options(settings));
    }
}
