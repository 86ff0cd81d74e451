package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Handler;
import io.braid.api.Node;
import io.braid.monitor.NodeView;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The methods every node serves for the monitor: {@value #STATS} (this node's figures as JSON),
 * {@value #DRAIN} (start draining) and {@value #WEIGHT} (set the weight; the request is the
 * weight in decimal ASCII). They answer UNAVAILABLE until the node has started.
 */
public final class NodeMethods {
    public static final String STATS = "braid.stats";
    public static final String DRAIN = "braid.drain";
    public static final String WEIGHT = "braid.weight";

    private final NodeStats stats;
    private volatile NodeView view;

    public NodeMethods(NodeStats stats) {
        this.stats = stats;
    }

    /** The node is up: the methods answer from now on. */
    public void attach(NodeView view) {
        this.view = view;
    }

    public Map<String, Handler<byte[], byte[]>> handlers() {
        Map<String, Handler<byte[], byte[]>> handlers = new LinkedHashMap<>();
        handlers.put(STATS, (context, request) -> Json.write(statsJson()).getBytes(StandardCharsets.UTF_8));
        handlers.put(DRAIN, (context, request) -> act(DRAIN, request));
        handlers.put(WEIGHT, (context, request) -> act(WEIGHT, request));
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
        return stats.toJson(node, links);
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
        return Json.write(json).getBytes(StandardCharsets.UTF_8);
    }

    private NodeView requireView() {
        NodeView node = view;
        if (node == null) {
            throw new BraidException(Code.UNAVAILABLE, "the node is still starting");
        }
        return node;
    }
}
