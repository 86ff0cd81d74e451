package io.braid.monitor.internal;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.api.internal.NodeView;
import io.braid.api.internal.PubsubStats;
import io.braid.api.internal.TopicStats;
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
                    // Top players by calls over the last minute, as the node's braid.stats shows them (HotPlayers).
                    json.put("hotPlayers", figures.getOrDefault("hotPlayers", List.of()));
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
                .<Map<String, Object>>thenApply(bytes -> JsonCodec.parseObject(new String(bytes, StandardCharsets.UTF_8)))
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

    /** Calls shown per service in {@code /api/players/{token}}, the newest. */
    static final int PLAYER_CALLS_SHOWN = 32;
    /** Events {@code /api/timeline} answers at most, the newest. */
    static final int TIMELINE_SHOWN = 1000;

    /**
     * {@code /api/players/{token}}: per service, the token's owner and link epoch (read from the link
     * cache, no link made), what its owner says of it (active there, under which epoch, calls waiting
     * in its lane), its last calls and its moves as every node of the service recorded them, and
     * what each node's contributors add (the gateway's session). {@code known: false} when no
     * service has a link for it and no node remembers it.
     */
    public CompletableFuture<Map<String, Object>> player(String token) {
        if (token.isEmpty()) {
            return CompletableFuture.failedFuture(new BraidException(Code.INVALID_ARGUMENT, "the player token is empty"));
        }
        Map<String, CompletableFuture<Optional<io.braid.api.Link>>> links = new TreeMap<>();
        Map<String, List<Node>> byService = new TreeMap<>();
        Map<String, CompletableFuture<Map<String, Object>>> reports = new LinkedHashMap<>();
        byte[] request = token.getBytes(StandardCharsets.UTF_8);
        for (String service : new TreeSet<>(view.discover().services())) {
            links.put(service, view.linkCache().linkOfAsync(token, service)
                    .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS));
            List<Node> nodes = view.discover().nodes(service);
            byService.put(service, nodes);
            for (Node node : nodes) {
                reports.put(node.id(), ask(node, NodeMethods.PLAYER, request, () -> self.playerJson(token)));
            }
        }
        List<CompletableFuture<?>> all = new ArrayList<>(reports.values());
        for (CompletableFuture<Optional<io.braid.api.Link>> link : links.values()) {
            all.add(link.exceptionally(failure -> Optional.empty()));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).handle((done, ignored) -> {
            List<Object> services = new ArrayList<>();
            List<Object> contributed = new ArrayList<>();
            List<Object> unreachable = new ArrayList<>();
            for (Map.Entry<String, List<Node>> service : byService.entrySet()) {
                CompletableFuture<Optional<io.braid.api.Link>> read = links.get(service.getKey());
                Optional<io.braid.api.Link> link = read.isCompletedExceptionally() ? Optional.empty() : read.join();
                List<Map<String, Object>> calls = new ArrayList<>();
                List<Map<String, Object>> moves = new ArrayList<>();
                Map<String, Object> owner = null;
                boolean servesPlayers = false;
                for (Node node : service.getValue()) {
                    Map<String, Object> report = reports.get(node.id()).join();
                    if (report.containsKey("error")) {
                        Map<String, Object> u = new LinkedHashMap<>();
                        u.put("node", node.id());
                        u.put("error", report.get("error"));
                        unreachable.add(u);
                        continue;
                    }
                    servesPlayers |= Boolean.TRUE.equals(report.get("servesPlayers"));
                    calls.addAll(maps(report.get("calls")));
                    moves.addAll(maps(report.get("moves")));
                    if (report.get("extra") instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        Map<String, Object> c = new LinkedHashMap<>();
                        c.put("service", service.getKey());
                        c.put("node", node.id());
                        c.put("extra", extra);
                        contributed.add(c);
                    }
                    if (link.isPresent() && link.get().nodeId().equals(node.id())) {
                        owner = report;
                    }
                }
                if (link.isEmpty() && calls.isEmpty() && moves.isEmpty()) {
                    continue;
                }
                calls.sort(java.util.Comparator.comparingLong(c -> number(c.get("at"))));
                moves.sort(java.util.Comparator.comparingLong(m -> number(m.get("at"))));
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("service", service.getKey());
                json.put("linked", link.isPresent());
                json.put("owner", link.map(io.braid.api.Link::nodeId).orElse(null));
                json.put("epoch", link.map(io.braid.api.Link::epoch).orElse(0L));
                Node ownerNode = link.map(l -> find(l.nodeId())).orElse(null);
                json.put("ownerState", link.isEmpty() ? null : ownerNode == null ? "GONE" : ownerNode.state().name());
                json.put("ownerAddress", ownerNode == null ? null : ownerNode.address());
                json.put("servesPlayers", servesPlayers);
                json.put("ownerReachable", owner != null);
                json.put("active", owner != null && Boolean.TRUE.equals(owner.get("active")));
                json.put("activeEpoch", owner == null ? 0L : owner.get("epoch"));
                json.put("laneWaiting", owner == null ? null : owner.get("laneWaiting"));
                json.put("calls", calls.subList(Math.max(0, calls.size() - PLAYER_CALLS_SHOWN), calls.size()));
                json.put("moves", moves);
                services.add(json);
            }
            boolean known = !services.isEmpty() || !contributed.isEmpty();
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("token", token);
            json.put("known", known);
            if (!known) {
                json.put("message", "no service has a link for player '" + token + "' and no node remembers it");
            }
            json.put("generatedAt", clock.getAsLong());
            json.put("services", services);
            json.put("contributed", contributed);
            json.put("unreachable", unreachable);
            return json;
        });
    }

    /**
     * {@code /api/timeline}: the cluster's events recorded at or after {@code sinceMillis}, newest
     * first (at most {@value #TIMELINE_SHOWN}), from every node's own record and what this node
     * heard on the timeline topic (events of nodes gone since); {@code kinds} and {@code node}
     * filter when given (empty: all).
     */
    public CompletableFuture<Map<String, Object>> timeline(long sinceMillis, java.util.Set<String> kinds, String node) {
        Map<String, CompletableFuture<Map<String, Object>>> asked = new LinkedHashMap<>();
        byte[] request = Long.toString(sinceMillis).getBytes(StandardCharsets.US_ASCII);
        asked.put(view.node().id(), ask(view.node(), NodeMethods.TIMELINE, request, () -> self.timelineJson(sinceMillis)));
        for (String service : new TreeSet<>(view.discover().services())) {
            for (Node member : view.discover().nodes(service)) {
                asked.computeIfAbsent(member.id(), id -> ask(member, NodeMethods.TIMELINE, request,
                        () -> self.timelineJson(sinceMillis)));
            }
        }
        return CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new)).thenApply(done -> {
            Map<String, Map<String, Object>> events = new LinkedHashMap<>();
            List<Object> unreachable = new ArrayList<>();
            asked.forEach((id, answer) -> {
                Map<String, Object> json = answer.join();
                if (json.containsKey("error")) {
                    Map<String, Object> u = new LinkedHashMap<>();
                    u.put("node", id);
                    u.put("error", json.get("error"));
                    unreachable.add(u);
                    return;
                }
                for (Map<String, Object> event : maps(json.get("events"))) {
                    if ((kinds.isEmpty() || kinds.contains(String.valueOf(event.get("kind"))))
                            && (node == null || node.equals(event.get("node")))) {
                        events.putIfAbsent(event.get("node") + "#" + number(event.get("seq")), event);
                    }
                }
            });
            List<Map<String, Object>> list = new ArrayList<>(events.values());
            list.sort(java.util.Comparator.<Map<String, Object>>comparingLong(e -> number(e.get("at")))
                    .thenComparingLong(e -> number(e.get("seq"))).reversed());
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("self", view.node().id());
            json.put("generatedAt", clock.getAsLong());
            json.put("since", sinceMillis);
            json.put("events", new ArrayList<>(list.subList(0, Math.min(list.size(), TIMELINE_SHOWN))));
            json.put("unreachable", unreachable);
            return json;
        });
    }

    /** {@code method} of {@code node}, or of this node directly: its JSON answer, or {@code {error}}; never fails. */
    private CompletableFuture<Map<String, Object>> ask(Node node, String method, byte[] request,
                                                       java.util.function.Supplier<Map<String, Object>> here) {
        CompletableFuture<Map<String, Object>> answer = node.id().equals(view.node().id())
                ? CompletableFuture.supplyAsync(here, Thread::startVirtualThread)
                : caller.call(node.id(), method, request, timeout)
                        .thenApply(bytes -> JsonCodec.parseObject(new String(bytes, StandardCharsets.UTF_8)));
        return answer.exceptionally(failure -> Map.of("error", String.valueOf(BraidException.from(failure).getMessage())));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Object value) {
        List<Map<String, Object>> list = new ArrayList<>();
        if (value instanceof List<?> items) {
            for (Object item : items) {
                if (item instanceof Map<?, ?> map) {
                    list.add((Map<String, Object>) map);
                }
            }
        }
        return list;
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
        return answer.thenApply(bytes -> JsonCodec.parseObject(new String(bytes, StandardCharsets.UTF_8)));
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
