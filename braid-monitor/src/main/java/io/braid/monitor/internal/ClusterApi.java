package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.monitor.NodeView;
import io.braid.pubsub.PubsubStats;
import io.braid.pubsub.TopicStats;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The monitor's JSON answers, gathered from the whole cluster: discovery says which nodes exist
 * and in which state, the shared link cache how many tokens each holds, and each node's own
 * {@code braid.stats} its role, epoch, call rates and p99s. A node that does not answer in time is
 * shown with {@code reachable: false} and what discovery and the link cache know of it. Never
 * blocks: every method returns a future.
 */
public final class ClusterApi {
    private final NodeView view;
    private final NodeMethods self;
    private final NodeCaller caller;
    private final Duration timeout;
    private final LongSupplier clock;

    public ClusterApi(NodeView view, NodeMethods self, NodeCaller caller, Duration timeout, LongSupplier clock) {
        this.view = view;
        this.self = self;
        this.caller = caller;
        this.timeout = timeout;
        this.clock = clock;
    }

    /** {@code /api/cluster}. */
    public CompletableFuture<Map<String, Object>> cluster() {
        Map<String, List<Node>> byService = new TreeMap<>();
        for (String service : view.discover().services()) {
            List<Node> nodes = view.discover().nodes(service);
            if (!nodes.isEmpty()) {
                byService.put(service, nodes);
            }
        }
        Map<String, CompletableFuture<Map<String, Object>>> stats = new LinkedHashMap<>();
        Map<String, CompletableFuture<Long>> links = new LinkedHashMap<>();
        for (List<Node> nodes : byService.values()) {
            for (Node node : nodes) {
                CompletableFuture<Map<String, Object>> figures = statsOf(node);
                stats.put(node.id(), figures);
                // A node counts its own links in its answer; for one that did not answer, ask the link cache.
                links.put(node.id(), figures.thenCompose(answer -> answer.get("links") instanceof Long count && count >= 0
                        ? CompletableFuture.completedFuture(count)
                        : view.linkCache().linkCountAsync(node.id())
                                .completeOnTimeout(-1L, timeout.toMillis(), TimeUnit.MILLISECONDS)
                                .exceptionally(failure -> -1L)));
            }
        }
        List<CompletableFuture<?>> all = new ArrayList<>(stats.values());
        all.addAll(links.values());
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Object> services = new ArrayList<>();
            Map<String, MethodFigures> methods = new TreeMap<>();
            long interval = 0;
            for (Map.Entry<String, List<Node>> service : byService.entrySet()) {
                List<Object> nodes = new ArrayList<>();
                String leader = null;
                long epoch = 0;
                for (Node node : service.getValue()) {
                    Map<String, Object> figures = stats.get(node.id()).join();
                    boolean reachable = !figures.containsKey("error");
                    boolean isLeader = reachable && "LEADER".equals(figures.get("role"));
                    if (isLeader) {
                        leader = node.id();
                    }
                    epoch = Math.max(epoch, number(figures.get("epoch")));
                    if (leader == null && figures.get("leader") instanceof String seen) {
                        leader = seen; // a follower's view, until the leader itself answers
                    }
                    interval = Math.max(interval, number(figures.get("sampleIntervalMs")));
                    Map<String, Object> json = new LinkedHashMap<>();
                    json.put("id", node.id());
                    json.put("address", node.address());
                    json.put("state", node.state().name());
                    json.put("weight", node.weight());
                    json.put("leader", isLeader);
                    json.put("role", figures.getOrDefault("role", "UNKNOWN"));
                    json.put("epoch", figures.getOrDefault("epoch", 0L));
                    json.put("links", links.get(node.id()).join());
                    json.put("callRate", figures.getOrDefault("callRate", 0.0));
                    json.put("p99Ms", figures.getOrDefault("p99Ms", 0.0));
                    json.put("reachable", reachable);
                    if (!reachable) {
                        json.put("error", figures.get("error"));
                    }
                    json.put("self", node.id().equals(view.node().id()));
                    List<Object> nodeMethods = new ArrayList<>();
                    if (figures.get("methods") instanceof List<?> list) {
                        for (Object item : list) {
                            if (item instanceof Map<?, ?> method) {
                                Map<String, Object> m = new LinkedHashMap<>();
                                m.put("method", method.get("method"));
                                m.put("calls", method.get("calls"));
                                m.put("errors", method.get("errors"));
                                m.put("rate", method.get("rate"));
                                m.put("p99Ms", method.get("p99Ms"));
                                nodeMethods.add(m);
                                methods.computeIfAbsent(service.getKey() + "\u0000" + method.get("method"),
                                        k -> new MethodFigures(service.getKey(), String.valueOf(method.get("method"))))
                                        .add(method);
                            }
                        }
                    }
                    json.put("methods", nodeMethods);
                    nodes.add(json);
                }
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("name", service.getKey());
                json.put("leader", leader);
                json.put("epoch", epoch);
                json.put("nodes", nodes);
                services.add(json);
            }
            long bucket = interval > 0 ? interval : 1000;
            List<Object> methodList = new ArrayList<>();
            for (MethodFigures figures : methods.values()) {
                methodList.add(figures.toJson(bucket));
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("self", view.node().id());
            json.put("generatedAt", clock.getAsLong());
            json.put("sampleIntervalMs", bucket);
            json.put("services", services);
            json.put("methods", methodList);
            return json;
        });
    }

    private CompletableFuture<Map<String, Object>> statsOf(Node node) {
        if (node.id().equals(view.node().id())) {
            return CompletableFuture.supplyAsync(self::statsJson, Thread::startVirtualThread)
                    .exceptionally(failure -> Map.of("error", String.valueOf(BraidException.from(failure).getMessage())));
        }
        return caller.call(node.id(), NodeMethods.STATS, new byte[0], timeout)
                .<Map<String, Object>>thenApply(bytes -> Json.parseObject(new String(bytes, StandardCharsets.UTF_8)))
                .exceptionally(failure -> Map.of("error", String.valueOf(BraidException.from(failure).getMessage())));
    }

    private static long number(Object value) {
        return value instanceof Number n ? n.longValue() : 0;
    }

    /** One method of one service, summed over the nodes that serve it; histories bucketed by sample interval. */
    private static final class MethodFigures {
        final String service;
        final String method;
        long calls;
        long errors;
        double rate;
        double p99;
        final TreeMap<Long, double[]> buckets = new TreeMap<>();

        MethodFigures(String service, String method) {
            this.service = service;
            this.method = method;
        }

        void add(Map<?, ?> figures) {
            calls += number(figures.get("calls"));
            errors += number(figures.get("errors"));
            rate += figures.get("rate") instanceof Number n ? n.doubleValue() : 0;
            p99 = Math.max(p99, figures.get("p99Ms") instanceof Number n ? n.doubleValue() : 0);
            if (figures.get("history") instanceof List<?> history) {
                for (Object item : history) {
                    if (item instanceof List<?> sample && sample.size() == 3) {
                        buckets.computeIfAbsent(number(sample.get(0)), t -> new double[2]);
                        double[] b = buckets.get(number(sample.get(0)));
                        b[0] += ((Number) sample.get(1)).doubleValue();
                        b[1] = Math.max(b[1], ((Number) sample.get(2)).doubleValue());
                    }
                }
            }
        }

        Map<String, Object> toJson(long bucketMillis) {
            TreeMap<Long, double[]> aligned = new TreeMap<>();
            for (Map.Entry<Long, double[]> entry : buckets.entrySet()) {
                long at = entry.getKey() / bucketMillis * bucketMillis;
                double[] b = aligned.computeIfAbsent(at, t -> new double[2]);
                b[0] += entry.getValue()[0];
                b[1] = Math.max(b[1], entry.getValue()[1]);
            }
            List<Object> history = new ArrayList<>();
            aligned.forEach((at, b) -> history.add(List.of(at, b[0], b[1])));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("service", service);
            json.put("method", method);
            json.put("calls", calls);
            json.put("errors", errors);
            json.put("rate", rate);
            json.put("p99Ms", p99);
            json.put("history", history);
            return json;
        }
    }

    /** {@code /api/topics}. */
    public CompletableFuture<Map<String, Object>> topics() {
        if (!(view.pubsub() instanceof PubsubStats stats)) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("supported", false);
            json.put("topics", List.of());
            return CompletableFuture.completedFuture(json);
        }
        return stats.topicStats().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).thenApply(topics -> {
            List<Object> list = new ArrayList<>();
            for (TopicStats topic : topics) {
                List<Object> channels = new ArrayList<>();
                for (TopicStats.ChannelStats channel : topic.channels()) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("name", channel.channel());
                    c.put("consumers", channel.consumers());
                    c.put("backlog", channel.backlog());
                    c.put("pending", channel.pending());
                    channels.add(c);
                }
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", topic.topic());
                t.put("length", topic.length());
                t.put("deadLetters", topic.deadLetters());
                t.put("channels", channels);
                list.add(t);
            }
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("supported", true);
            json.put("generatedAt", clock.getAsLong());
            json.put("topics", list);
            return json;
        });
    }

    /** {@code /api/tokens/{token}}: the token's owner in every service that has one. */
    public CompletableFuture<Map<String, Object>> token(String token) {
        Map<String, CompletableFuture<Optional<String>>> owners = new TreeMap<>();
        for (String service : new TreeSet<>(view.discover().services())) {
            owners.put(service, view.linkCache().targetAsync(token, service)
                    .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return CompletableFuture.allOf(owners.values().toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Object> links = new ArrayList<>();
            owners.forEach((service, owner) -> owner.join().ifPresent(id -> {
                Map<String, Object> link = new LinkedHashMap<>();
                link.put("service", service);
                link.put("node", id);
                Node node = find(id);
                link.put("address", node == null ? null : node.address());
                link.put("state", node == null ? "GONE" : node.state().name());
                links.add(link);
            }));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("token", token);
            json.put("links", links);
            return json;
        });
    }

    /** Drains node {@code id}: through its own {@code braid.drain}, or directly for this node. */
    public CompletableFuture<Map<String, Object>> drain(String id) {
        return act(id, NodeMethods.DRAIN, new byte[0]);
    }

    /** Sets the weight of node {@code id}, 0..{@link Node#MAX_WEIGHT}. */
    public CompletableFuture<Map<String, Object>> weight(String id, int weight) {
        if (weight < 0 || weight > Node.MAX_WEIGHT) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT,
                    "weight must be in 0.." + Node.MAX_WEIGHT + ", was " + weight));
        }
        return act(id, NodeMethods.WEIGHT, Integer.toString(weight).getBytes(StandardCharsets.US_ASCII));
    }

    private CompletableFuture<Map<String, Object>> act(String id, String method, byte[] request) {
        Node node = find(id);
        if (node == null) {
            return CompletableFuture.failedFuture(new BraidException(Code.NOT_FOUND, "no node '" + id + "' is registered"));
        }
        CompletableFuture<byte[]> answer = id.equals(view.node().id())
                ? CompletableFuture.supplyAsync(() -> self.act(method, request), Thread::startVirtualThread)
                : caller.call(id, method, request, timeout);
        return answer.thenApply(bytes -> Json.parseObject(new String(bytes, StandardCharsets.UTF_8)));
    }

    private Node find(String id) {
        for (String service : view.discover().services()) {
            for (Node node : view.discover().nodes(service)) {
                if (node.id().equals(id)) {
                    return node;
                }
            }
        }
        return null;
    }
}
