package io.braid.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import io.braid.api.CallOptions;
import io.braid.api.PlayerStates;
import io.braid.monitor.TracePlayers;
import io.braid.monitor.internal.BraidMeters;
import io.braid.monitor.internal.BraidSpans;
import io.braid.testkit.Await;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Player-centric traces and lane meters through {@code Braid.builder()} on the in-memory plane:
 * a player's calls run in its lane and their SERVER spans carry {@code braid.player} with the
 * lane's wait and run as children; a drain gives a {@code hand over} span per player on the old
 * owner (outcome, target) and a {@code take over} span on the new one; the lane meters count the
 * calls; {@code tracePlayers(hashed)} hides the tokens everywhere.
 */
class PlayerTracingTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final CallOptions TIMEOUT = CallOptions.DEFAULT.withTimeout(Duration.ofSeconds(5));
    private static final AttributeKey<String> PLAYER = AttributeKey.stringKey(BraidSpans.BRAID_PLAYER);
    private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey(BraidSpans.BRAID_OUTCOME);
    private static final AttributeKey<String> TARGET = AttributeKey.stringKey(BraidSpans.BRAID_TARGET_NODE);
    private static final int PLAYERS = 4;

    private final InMemoryControlPlane plane = new InMemoryControlPlane("player-tracing-" + System.nanoTime());
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final List<Braid> nodes = new ArrayList<>();
    private final List<OpenTelemetrySdk> sdks = new ArrayList<>();

    @AfterEach
    void close() {
        nodes.reversed().forEach(Braid::close);
        sdks.forEach(OpenTelemetrySdk::close);
    }

    private OpenTelemetrySdk sdk() {
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build())
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        sdks.add(sdk);
        return sdk;
    }

    private static PlayerStates<long[]> clicks() {
        return new PlayerStates<>() {
            @Override
            public long[] activate(String token, Activation how, byte[] snapshot) {
                return new long[] {snapshot == null ? 0 : ByteBuffer.wrap(snapshot).getLong()};
            }

            @Override
            public byte[] snapshot(long[] state) {
                return ByteBuffer.allocate(Long.BYTES).putLong(state[0]).array();
            }

            @Override
            public void deactivate(long[] state, Deactivation why) {
            }
        };
    }

    private Braid logic(String id, TracePlayers shown) {
        Players<long[]> players = Players.of(clicks())
                .handle("click", StringValue.parser(), (player, ctx, req) -> Int64Value.of(++player.state()[0]));
        Braid node = Braid.builder().service("logic").nodeId(id).ioThreads(1).inMemory(plane).players(players)
                .openTelemetry(sdk()).tracePlayers(shown).drainTimeout(Duration.ofSeconds(30)).start();
        nodes.add(node);
        return node;
    }

    private Braid gateway(TracePlayers shown) {
        Braid node = Braid.builder().service("gateway").nodeId("gateway-1").ioThreads(1).inMemory(plane)
                .openTelemetry(sdk()).tracePlayers(shown).start();
        nodes.add(node);
        return node;
    }

    private static void click(Braid gateway, String token) {
        gateway.invoke("logic", "click", token, StringValue.of(""), Int64Value.parser(), TIMEOUT).join();
    }

    private List<SpanData> spans(String name) {
        return exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
    }

    @Test
    void aPlayersCallsAndItsHandOverAreTracedAndItsLaneMetered() throws Exception {
        Braid a = logic("logic-a", TracePlayers.PLAIN);
        Braid gateway = gateway(TracePlayers.PLAIN);
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        for (int i = 0; i < PLAYERS; i++) {
            click(gateway, "player-" + i);
        }
        Await.until(WAIT, "the clicks' lane runs", () -> spans("logic lane run").size() == PLAYERS);
        SpanData server = spans("logic/click").stream().filter(s -> s.getKind() == SpanKind.SERVER)
                .filter(s -> "player-0".equals(s.getAttributes().get(PLAYER))).findFirst().orElseThrow();
        assertThat(spans("logic lane wait")).anySatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(server.getSpanId()));
        assertThat(spans("logic lane run")).anySatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(server.getSpanId()));
        var run = a.meterRegistry().find(BraidMeters.LANE_RUN).tag(BraidMeters.TAG_SERVICE, "logic").timer();
        assertThat(run).isNotNull();
        assertThat(run.count()).isGreaterThanOrEqualTo(PLAYERS); // the clicks, and any timers of theirs

        Braid b = logic("logic-b", TracePlayers.PLAIN);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);
        a.drain().get(30, TimeUnit.SECONDS);

        Await.until(WAIT, "a take-over span per player", () -> spans("logic take over").size() == PLAYERS);
        List<SpanData> handOvers = spans("logic hand over");
        assertThat(handOvers).hasSize(PLAYERS).allSatisfy(span -> {
            assertThat(span.getAttributes().get(OUTCOME)).isEqualTo("handed_over");
            assertThat(span.getAttributes().get(TARGET)).isEqualTo("logic-b");
            assertThat(span.getAttributes().get(AttributeKey.stringKey(BraidSpans.BRAID_NODE))).isEqualTo("logic-a");
            assertThat(span.getEndEpochNanos()).isGreaterThanOrEqualTo(span.getStartEpochNanos());
        });
        assertThat(handOvers).extracting(s -> s.getAttributes().get(PLAYER))
                .containsExactlyInAnyOrder("player-0", "player-1", "player-2", "player-3");
        assertThat(spans("logic take over")).allSatisfy(span -> {
            assertThat(span.getAttributes().get(AttributeKey.stringKey(BraidSpans.BRAID_NODE))).isEqualTo("logic-b");
            assertThat(span.getAttributes().get(AttributeKey.longKey(BraidSpans.BRAID_EPOCH))).isPositive();
        }).extracting(s -> s.getAttributes().get(PLAYER))
                .containsExactlyInAnyOrder("player-0", "player-1", "player-2", "player-3");
        assertThat(b.meterRegistry().find(BraidMeters.LANE_WAIT).timer()).isNotNull();
    }

    @Test
    void hashedPlayersHideTheTokenInCallAndHandOverSpans() throws Exception {
        TracePlayers hashed = TracePlayers.hashed("one secret for the cluster");
        Braid a = logic("logic-a", hashed);
        Braid gateway = gateway(hashed);
        Await.until(WAIT, "the gateway sees logic-a", () -> gateway.discover().nodes("logic").size() == 1);
        click(gateway, "player-42");
        logic("logic-b", hashed);
        Await.until(WAIT, "logic-a sees logic-b", () -> a.discover().nodes("logic").size() == 2);
        a.drain().get(30, TimeUnit.SECONDS);
        Await.until(WAIT, "the take-over span", () -> spans("logic take over").size() == 1);

        String shown = hashed.show("player-42");
        assertThat(exporter.getFinishedSpanItems()).extracting(SpanData::getName)
                .contains("logic/click", "logic lane run", "logic hand over", "logic take over");
        assertThat(exporter.getFinishedSpanItems())
                .filteredOn(s -> s.getAttributes().get(PLAYER) != null)
                .hasSizeGreaterThanOrEqualTo(6)
                .allSatisfy(s -> assertThat(s.getAttributes().get(PLAYER)).isEqualTo(shown));
        assertThat(exporter.getFinishedSpanItems()).allSatisfy(s -> assertThat(s.getAttributes().asMap().values())
                .noneMatch(value -> String.valueOf(value).contains("player-42")));
    }

    @Test
    void theSettingIsChecked() {
        assertThatThrownBy(() -> Braid.builder().tracePlayers(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("tracePlayers");
        assertThatThrownBy(() -> TracePlayers.hashed("too short")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("16..512");
    }
}
