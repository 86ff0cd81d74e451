package io.braid.bench.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EchoCellTest {
    @Test
    void cellIsNamedByConnectionsCallsPerConnectionAndPayload() {
        assertThat(new EchoCell(4, 16, 64).name()).isEqualTo("4x16 64 B");
        assertThat(new EchoCell(1, 64, 1024).name()).isEqualTo("1x64 1 KiB");
        assertThat(new EchoCell(4, 16, 64).inFlight()).isEqualTo(64);
    }

    @Test
    void aCellWithoutConnectionsIsRefused() {
        assertThatThrownBy(() -> new EchoCell(0, 1, 64)).isInstanceOf(IllegalArgumentException.class);
    }
}
