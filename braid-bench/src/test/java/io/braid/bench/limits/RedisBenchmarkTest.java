package io.braid.bench.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.braid.bench.core.Sample;
import org.junit.jupiter.api.Test;

class RedisBenchmarkTest {
    private static final String OUTPUT = """
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "XADD bench-stream * f v","116959.06","8.011","0.456","7.775","18.335","20.527","23.887"
            0m0.002s 0m0.001s
            0m0.300s 0m0.200s
            """;

    @Test
    void resultLineBecomesRateLatencyInMicrosAndCpuOfBothProcessesPerRequest() {
        Sample sample = RedisBenchmark.parse(OUTPUT, 100_000, 1.5);

        assertThat(sample.opsPerSecond()).isEqualTo(116959.06);
        assertThat(sample.p50Micros()).isCloseTo(7775, within(0.01));
        assertThat(sample.p99Micros()).isCloseTo(20527, within(0.01));
        assertThat(sample.p999Micros()).isNaN();
        // (0.5 s of redis-benchmark, the children's line of `times`, + 1.5 s of redis-server) / 100k requests
        assertThat(sample.cpuMicrosPerOp()).isCloseTo(20, within(1e-9));
        assertThat(sample.clientBytesPerOp()).isNaN();
        assertThat(sample.serverBytesPerOp()).isNaN();
    }

    @Test
    void outputWithoutAResultLineFailsAndShowsWhatTheToolSaid() {
        assertThatThrownBy(() -> RedisBenchmark.parse("Could not connect to Redis at 127.0.0.1:1: Connection refused\n",
                1000, 0))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no result line")
                .hasMessageContaining("Connection refused");
    }
}
