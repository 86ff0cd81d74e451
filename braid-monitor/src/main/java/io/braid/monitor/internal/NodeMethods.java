package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Handler;
import io.braid.api.Node;
import io.braid.api.internal.NodeView;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The methods every node serves for the monitor: {@value #STATS} (this node's figures as JSON),
 * {@value #DRAIN} (start draining), {@value #WEIGHT} (set the weight; the request is the
 * weight in decimal ASCII), {@value #PLAYER} (what this node knows of one player token) and
 * {@value #TIMELINE} (its timeline events since a time), the last two read from the node's
 * {@link io.braid.api.internal.NodeInsight} when it has one (else: nothing known, no events). They
 * answer UNAVAILABLE until the node has started.
 */
public final class NodeMethods {
    public static final String STATS = "braid.stats";
    public static final String DRAIN = "braid.drain";
    public static final String WEIGHT = "braid.weight";
    /** What this node knows of one player (the request is the token in UTF-8), see {@link InsightJson#player}. */
    public static final String PLAYER = "braid.player";
    /** This node's timeline events since a time (the request: epoch ms in decimal ASCII), see {@link InsightJson#event}. */
    public static final String TIMELINE = "braid.timeline";

    private final NodeStats stats;
    /** Null when players are not named: {@code hotPlayers} is then empty. */
    private final HotPlayers hot;
    private volatile NodeView view;

    public NodeMethods(NodeStats stats) {
        this(stats, null);
    }

    NodeMethods(NodeStats stats, HotPlayers hot) {
        this.stats = stats;
        this.hot = hot;
    }

    /** The node is up: the methods answer from now on. */
    public void attach(NodeView view) {
        this.view = view;
    }

    public Map<String, Handler<byte[], byte[]>> handlers() {
        Map<String, Handler<byte[], byte[]>> handlers = new LinkedHashMap<>();
        handlers.put(STATS, (context, request) -> JsonCodec.utf8(statsJson()));
        handlers.put(DRAIN, (context, request) -> act(DRAIN, request));
        handlers.put(WEIGHT, (context, request) -> act(WEIGHT, request));
        handlers.put(PLAYER, (context, request) -> JsonCodec.utf8(playerJson(new String(request, StandardCharsets.UTF_8))));
        handlers.put(TIMELINE, (context, request) -> {
            long since;
            try {
                since = Long.parseLong(new String(request, StandardCharsets.US_ASCII).trim());
            } catch (NumberFormatException e) {
                throw new BraidException(Code.INVALID_ARGUMENT, "since must be epoch milliseconds in decimal");
            }
            return JsonCodec.utf8(timelineJson(since));
        });
        return handlers;
    }

    /** This node's figures; blocks for the link count (at most 5 s). */
    Map<String, Object> statsJson() {
        NodeView node = requireView();
        long links;
        try {
            links = node.linkCache().linkCountAsync(node.node().id()).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            links = -1;
        }
        Map<String, Object> json = stats.toJson(node, links);
        json.put("hotPlayers", hot == null ? List.of() : hot.byCalls());
        json.put("hotPlayersByRun", hot == null ? List.of() : hot.byRunTime());
        return json;
    }

    /** What this node knows of {@code token}'s player: nothing but its id when it records nothing for the monitor. */
    Map<String, Object> playerJson(String token) {
        NodeView node = requireView();
        if (node instanceof io.braid.api.internal.NodeInsight insight) {
            return InsightJson.player(node.node().id(), insight.player(token));
        }
        return InsightJson.player(node.node().id(), io.braid.api.internal.PlayerReport.NOTHING);
    }

    /** This node's timeline events since {@code sinceMillis}: {@code {node, events: [...]}}. */
    Map<String, Object> timelineJson(long sinceMillis) {
        NodeView node = requireView();
        java.util.List<Object> events = new java.util.ArrayList<>();
        if (node instanceof io.braid.api.internal.NodeInsight insight) {
            for (io.braid.api.internal.TimelineEvent event : insight.timeline(sinceMillis)) {
                events.add(InsightJson.event(event));
            }
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("node", node.node().id());
        json.put("events", events);
        return json;
    }

    /** Runs an operator action on this node and answers its new state as JSON. */
    byte[] act(String method, byte[] request) {
        NodeView node = requireView();
        switch (method) {
            case DRAIN -> node.drain();
            case WEIGHT -> {
                int weight;
                try {
                    weight = Integer.parseInt(new String(request, StandardCharsets.US_ASCII).trim());
                } catch (NumberFormatException e) {
                    throw new BraidException(Code.INVALID_ARGUMENT, "weight must be a decimal integer");
                }
                if (weight < 0 || weight > Node.MAX_WEIGHT) {
                    throw new BraidException(Code.INVALID_ARGUMENT,
                            "weight must be in 0.." + Node.MAX_WEIGHT + ", was " + weight);
                }
                node.weight(weight);
            }
            default -> throw new BraidException(Code.NOT_FOUND, "no action " + method);
        }
        Node now = node.node();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("node", now.id());
        json.put("state", now.state().name());
        json.put("weight", now.weight());
        return JsonCodec.utf8(json);
    }

    private NodeView requireView() {
        NodeView node = view;
        if (node == null) {
            throw new BraidException(Code.UNAVAILABLE, "the node is still starting");
        }
        return node;
    }
}
