package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Ticker;
import io.braid.monitor.TracePlayers;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The lane hooks the monitor answers allocate nothing per call in the steady state (a player
 * already counted in the current window), as braid-rpc's allocation budget needs: measured with
 * the JVM's per-thread allocation counter over 200,000 turns into a Prometheus registry.
 */
class LaneMetersAllocationTest {
    private static final int TURNS = 200_000;

    @Test
    void aTurnOfAKnownPlayerAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            LaneMeters meters = new LaneMeters(registry, "logic",
                    new HotPlayers(256, Ticker.system(), TracePlayers.PLAIN));
            String[] players = new String[64];
            for (int i = 0; i < players.length; i++) {
                players[i] = "player-" + i;
            }
            turns(meters, players); // warm up: counters made, code compiled
            long before = threads.getCurrentThreadAllocatedBytes();
            turns(meters, players);
            long perTurn = (threads.getCurrentThreadAllocatedBytes() - before) / TURNS;
            System.out.println("lane hooks: " + perTurn + " bytes allocated per turn");
            assertThat(perTurn).as("bytes allocated per turn").isLessThanOrEqualTo(1);
        } finally {
            registry.close();
        }
    }

    private static void turns(LaneMeters meters, String[] players) {
        for (int i = 0; i < TURNS; i++) {
            meters.entered(i & 3);
            meters.turnEnded(players[i & 63], 1_000 + i, 5_000 + i, true);
        }
    }
}
