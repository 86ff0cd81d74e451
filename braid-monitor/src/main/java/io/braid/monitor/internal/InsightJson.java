package io.braid.monitor.internal;

import io.braid.api.internal.PlayerReport;
import io.braid.api.internal.TimelineEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a node recorded for the monitor ({@link io.braid.api.internal.NodeInsight}) as the JSON its
 * {@value NodeMethods#PLAYER} and {@value NodeMethods#TIMELINE} methods answer, and the HTTP API
 * passes on.
 */
final class InsightJson {
    private InsightJson() {
    }

    /** {@code node, servesPlayers, active, epoch, laneWaiting, calls[], moves[], extra{}}. */
    static Map<String, Object> player(String node, PlayerReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("node", node);
        json.put("servesPlayers", report.servesPlayers());
        json.put("active", report.active());
        json.put("epoch", report.epoch());
        json.put("laneWaiting", report.laneWaiting());
        List<Object> calls = new ArrayList<>();
        for (PlayerReport.Call call : report.calls()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("node", node);
            c.put("at", call.atMillis());
            c.put("method", call.method());
            c.put("latencyMs", call.micros() / 1000.0);
            c.put("code", call.code());
            calls.add(c);
        }
        json.put("calls", calls);
        List<Object> moves = new ArrayList<>();
        for (PlayerReport.Move move : report.moves()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("node", node);
            m.put("at", move.atMillis());
            m.put("kind", move.kind());
            m.put("reason", move.reason());
            m.put("detail", move.detail());
            moves.add(m);
        }
        json.put("moves", moves);
        json.put("extra", new LinkedHashMap<>(report.extra()));
        return json;
    }

    /** {@code at, node, seq, kind, text, fields{}}. */
    static Map<String, Object> event(TimelineEvent event) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("at", event.atMillis());
        json.put("node", event.node());
        json.put("seq", event.seq());
        json.put("kind", event.kind().name());
        json.put("text", event.text());
        json.put("fields", new LinkedHashMap<>(event.fields()));
        return json;
    }
}
