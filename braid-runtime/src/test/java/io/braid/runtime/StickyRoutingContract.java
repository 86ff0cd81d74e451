package io.braid.runtime;

import static java.util.stream.Collectors.counting;
import static java.util.stream.Collectors.groupingBy;
import static java.util.stream.Collectors.mapping;
import static java.util.stream.Collectors.toSet;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.rpc.internal.RpcServer;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Token-sticky routing end to end, through the {@link Braid} facade: gateways call a service of
 * logic nodes by player token, and every logic node records which token it served for whom. Each
 * control plane (in-memory, Redis, Redis Cluster) runs these same checks; a subclass only says how
 * a node reaches its plane.
 *
 * <p>Discovery is eventually consistent between nodes, so a test that changes membership waits
 * (with {@link Await}) until the calling gateway's view shows the change before it judges routing.
 */
abstract class StickyRoutingContract {
    static final String LOGIC = "logic";
    static final String WHERE = "where";
    /** Per-call bound, so a routing bug fails with a message instead of hanging the build. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    /** Deadline of the calls of a burst of thousands. */
    static final Duration BURST_TIMEOUT = Duration.ofSeconds(60);
    /** The LinkCache contract: a link change made anywhere reaches every near cache within a second. */
    static final Duration PROPAGATION = Duration.ofSeconds(1);
    /** Generous bound for a discovery change to reach another node's view. */
    static final Duration VIEW_CHANGE = Duration.ofSeconds(5);

    /** One call a logic node served: for which token, from which caller, when (nanoTime). */
    record Served(String node, String token, String caller, long atNanos) {
    }

    /** Everything the logic nodes of this test served, in no particular order. */
    protected final Queue<Served> served = new ConcurrentLinkedQueue<>();
    private final Deque<Braid> started = new ArrayDeque<>();
    private final Deque<AutoCloseable> afterNodes = new ArrayDeque<>();

    /** Points a node at this test's control plane (and nothing else). */
    protected abstract Braid.Builder onPlane(Braid.Builder node);

    /**
     * As {@link #onPlane}, for a node that sends thousands of store commands in one burst. Redis
     * planes lend such a node a connection with a longer command timeout: the default 2 s is
     * meant to fail fast while Redis is down, and the build runs Netty's leak detector at paranoid,
     * which makes the Redis client's own buffers so slow (about 20 times) that a burst of 10,000
     * lookups waits in the client's queue for longer than that.
     */
    protected Braid.Builder onPlaneForBursts(Braid.Builder node) {
        return onPlane(node);
    }

    /** Closes {@code resource} after every node of the test has closed. */
    protected final <T extends AutoCloseable> T closeAfterNodes(T resource) {
        afterNodes.push(resource);
        return resource;
    }

    /** A short name of the plane for printed measurements. */
    protected abstract String planeName();

    @AfterEach
    void closeNodes() throws Exception {
        while (!started.isEmpty()) {
            started.pop().close(); // last started, first closed; idempotent for nodes a test closed
        }
        while (!afterNodes.isEmpty()) {
            afterNodes.pop().close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Nodes

    /** A logic node whose handler answers its own id and records what it served. */
    protected final Braid logic(String id, int weight) {
        return logic(id, weight, b -> b);
    }

    protected final Braid logic(String id, int weight, UnaryOperator<Braid.Builder> settings) {
        return start(onPlane(settings.apply(Braid.builder().service(LOGIC).nodeId(id).ioThreads(1).weight(weight)
                .handle(WHERE, StringValue.parser(), (ctx, request) -> {
                    served.add(new Served(id, ctx.token(), ctx.caller(), System.nanoTime()));
                    return StringValue.of(id);
                }))));
    }

    protected final List<Braid> logicNodes(int count) {
        List<Braid> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            nodes.add(logic("logic-" + i, 100));
        }
        return nodes;
    }

    /**
     * Logic nodes that serve a burst of thousands of calls. Each has one event loop, which also
     * carries its Redis traffic (heartbeats, 10,000 link invalidations on pub/sub), and the build
     * runs Netty's leak detector at paranoid (see {@link #onPlaneForBursts}): on a loaded 2-core
     * machine a heartbeat's reply was heard more than the default fence window (2 s) after it was
     * sent, the node fenced itself as designed, and the burst's calls failed UNAVAILABLE. These
     * tests are about agreement on owners, not the self-fence: their nodes get ttl 6 s (window 4 s).
     */
    protected final List<Braid> burstLogicNodes(int count) {
        List<Braid> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            nodes.add(logic("logic-" + i, 100, b -> b.heartbeat(Duration.ofSeconds(1), Duration.ofSeconds(6))));
        }
        return nodes;
    }

    protected final Braid gateway(String id) {
        return start(onPlane(Braid.builder().service("gateway").nodeId(id).ioThreads(1)));
    }

    /**
     * A gateway that sends thousands of calls at once: the calls get a deadline long enough for the
     * whole burst to drain through this small machine (see also {@link #onPlaneForBursts}).
     */
    protected final Braid burstGateway(String id) {
        return start(onPlaneForBursts(Braid.builder().service("gateway").nodeId(id).ioThreads(1)
                .defaultTimeout(BURST_TIMEOUT)));
    }

    private Braid start(Braid.Builder onItsPlane) {
        Braid node = onItsPlane.start();
        started.push(node);
        return node;
    }

    // ---------------------------------------------------------------------------------------------
    // Calls and views

    static CompletableFuture<String> callAsync(Braid gateway, String token) {
        return gateway.invoke(LOGIC, WHERE, token, StringValue.of(token), StringValue.parser())
                .thenApply(StringValue::getValue);
    }

    /** Calls logic for {@code token} ("" for a stateless call) and returns the id of the node that served it. */
    static String call(Braid gateway, String token) {
        return join(callAsync(gateway, token));
    }

    static <T> T join(CompletableFuture<T> future) {
        try {
            return future.get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw BraidException.from(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + CALL_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static Code failureCode(Braid gateway, String token) {
        try {
            String node = call(gateway, token);
            throw new AssertionError("token " + token + " was served by " + node + ", expected a failure");
        } catch (BraidException e) {
            return e.code();
        }
    }

    /** Waits until {@code gateway}'s view of logic satisfies {@code condition}. */
    static void awaitLogicView(Braid gateway, String what, Predicate<List<Node>> condition) {
        Await.until(VIEW_CHANGE, () -> gateway.node().id() + " sees " + what + "; it sees "
                + gateway.discover().nodes(LOGIC), () -> condition.test(gateway.discover().nodes(LOGIC)));
    }

    /** Waits until {@code gateway} sees exactly these logic nodes, all ACTIVE. */
    static void awaitActive(Braid gateway, List<Braid> logic) {
        Set<String> ids = logic.stream().map(b -> b.node().id()).collect(toSet());
        awaitLogicView(gateway, "exactly " + ids + " ACTIVE", nodes -> nodes.size() == ids.size()
                && nodes.stream().allMatch(n -> ids.contains(n.id()) && n.state() == NodeState.ACTIVE));
    }

    static List<String> tokens(String prefix, int count) {
        return IntStream.range(0, count).mapToObj(i -> prefix + "-" + i).toList();
    }

    static Braid byId(List<Braid> nodes, String id) {
        return nodes.stream().filter(n -> n.node().id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no node " + id));
    }

    /** Token to the set of nodes that served it, from the handlers' records. */
    Map<String, Set<String>> servingNodesByToken() {
        Map<String, Set<String>> byToken = new HashMap<>();
        for (Served s : served) {
            byToken.computeIfAbsent(s.token(), t -> new TreeSet<>()).add(s.node());
        }
        return byToken;
    }

    static String percentiles(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return String.format("p50 %.3f ms, p99 %.3f ms, max %.3f ms", sorted[sorted.length / 2] / 1e6,
                sorted[(int) Math.ceil(sorted.length * 0.99) - 1] / 1e6, sorted[sorted.length - 1] / 1e6);
    }

    // ---------------------------------------------------------------------------------------------
    // The checks

    @Test
    void twoGatewaysRacingForTenThousandFreshTokensAgreeOnOneOwnerEach() throws Exception {
        List<Braid> logic = burstLogicNodes(3);
        Braid a = burstGateway("gateway-a");
        Braid b = burstGateway("gateway-b");
        awaitActive(a, logic);
        awaitActive(b, logic);
        List<String> tokens = tokens("race", 10_000);

        // Each gateway starts all of its calls from its own thread, the two released together, and
        // only then does anyone wait for an answer: both ask for the same fresh tokens at once.
        CyclicBarrier together = new CyclicBarrier(2);
        long start = System.nanoTime();
        List<CompletableFuture<String>> fromA;
        List<CompletableFuture<String>> fromB;
        try (ExecutorService two = Executors.newFixedThreadPool(2)) {
            Future<List<CompletableFuture<String>>> startedByA = two.submit(() -> startAll(a, tokens, together));
            Future<List<CompletableFuture<String>>> startedByB = two.submit(() -> startAll(b, tokens, together));
            fromA = startedByA.get(30, TimeUnit.SECONDS);
            fromB = startedByB.get(30, TimeUnit.SECONDS);
        }
        CompletableFuture.allOf(fromA.toArray(CompletableFuture[]::new))
                .thenCombine(CompletableFuture.allOf(fromB.toArray(CompletableFuture[]::new)), (x, y) -> null)
                .get(BURST_TIMEOUT.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        System.out.printf("[%s] 2 x %,d racing token calls answered in %.0f ms%n", planeName(), tokens.size(),
                (System.nanoTime() - start) / 1e6);

        // The links as the store has them: a node started now has an empty near cache.
        Braid auditor = burstGateway("auditor");
        List<CompletableFuture<Optional<String>>> links = tokens.stream()
                .map(t -> auditor.linkCache().targetAsync(t, LOGIC)).toList();
        Map<String, Set<String>> servedBy = servingNodesByToken();
        Map<String, Map<String, Long>> callersByToken = new HashMap<>();
        for (Served s : served) {
            callersByToken.computeIfAbsent(s.token(), t -> new TreeMap<>()).merge(s.caller(), 1L, Long::sum);
        }
        List<String> wrong = new ArrayList<>();
        Map<String, Long> ownedPerNode = new TreeMap<>();
        for (int i = 0; i < tokens.size() && wrong.size() < 20; i++) {
            String token = tokens.get(i);
            Optional<String> owner = links.get(i).get(10, TimeUnit.SECONDS);
            if (owner.isEmpty()) {
                wrong.add(token + " has no link");
                continue;
            }
            ownedPerNode.merge(owner.get(), 1L, Long::sum);
            String answerA = fromA.get(i).join();
            String answerB = fromB.get(i).join();
            if (!answerA.equals(owner.get()) || !answerB.equals(owner.get())) {
                wrong.add(token + " linked to " + owner.get() + " but answered by " + answerA + " (a) and " + answerB + " (b)");
            }
            if (!Set.of(owner.get()).equals(servedBy.get(token))) {
                wrong.add(token + " linked to " + owner.get() + " but served by " + servedBy.get(token));
            }
            if (!Map.of("gateway-a", 1L, "gateway-b", 1L).equals(callersByToken.get(token))) {
                wrong.add(token + " served for " + callersByToken.get(token) + ", expected one call from each gateway");
            }
        }
        assertThat(wrong).as("tokens whose calls did not all reach their one owner").isEmpty();
        assertThat(served).hasSize(2 * tokens.size());

        Map<String, Long> handledPerNode = new TreeMap<>();
        served.stream().collect(groupingBy(Served::node, mapping(Served::token, toSet())))
                .forEach((node, distinctTokens) -> handledPerNode.put(node, (long) distinctTokens.size()));
        Map<String, Long> linkCounts = new TreeMap<>();
        for (Braid node : logic) {
            linkCounts.put(node.node().id(), auditor.linkCache().linkCount(node.node().id()));
        }
        System.out.printf("[%s] distinct tokens served per node %s; linkCount %s%n", planeName(), handledPerNode,
                linkCounts);
        assertThat(linkCounts).as("linkCount of each node").isEqualTo(handledPerNode).isEqualTo(ownedPerNode);
        assertThat(linkCounts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(tokens.size());
    }

    private static List<CompletableFuture<String>> startAll(Braid gateway, List<String> tokens, CyclicBarrier together)
            throws Exception {
        together.await(10, TimeUnit.SECONDS);
        List<CompletableFuture<String>> calls = new ArrayList<>(tokens.size());
        for (String token : tokens) {
            calls.add(callAsync(gateway, token));
        }
        return calls;
    }

    @Test
    void weightsFourTwoOneSpreadSevenHundredFreshTokensExactly() {
        List<Braid> logic = List.of(logic("logic-a", 4), logic("logic-b", 2), logic("logic-c", 1));
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);

        List<String> answers = new ArrayList<>();
        for (String token : tokens("weighted", 700)) {
            answers.add(call(gateway, token));
        }

        assertThat(answers.subList(0, 7)).as("nginx's smooth order for weights 4, 2, 1")
                .containsExactly("logic-a", "logic-b", "logic-a", "logic-c", "logic-a", "logic-b", "logic-a");
        Map<String, Long> perNode = new TreeMap<>(answers.stream().collect(groupingBy(id -> id, counting())));
        assertThat(perNode).containsExactlyEntriesOf(new TreeMap<>(Map.of("logic-a", 400L, "logic-b", 200L, "logic-c", 100L)));
        for (Braid node : logic) {
            assertThat(gateway.linkCache().linkCount(node.node().id())).as("linkCount of %s", node.node().id())
                    .isEqualTo(perNode.get(node.node().id()));
        }
    }

    @Test
    void aRelinkOrUnlinkOnOneGatewayReachesAnotherGatewayWithinASecond() {
        List<Braid> logic = logicNodes(2);
        Braid a = gateway("gateway-a");
        Braid b = gateway("gateway-b");
        awaitActive(a, logic);
        awaitActive(b, logic);

        // Relink: b has t warm in its near cache, a moves t to the other node.
        String token = "player-relinked";
        String first = call(b, token);
        assertThat(call(b, token)).as("warm call").isEqualTo(first);
        Braid other = logic.stream().filter(n -> !n.node().id().equals(first)).findFirst().orElseThrow();
        String moved = other.node().id();

        long start = System.nanoTime();
        a.linkCache().relink(token, other.node());
        Await.until(PROPAGATION, "gateway-b's call for " + token + " reaches " + moved, () -> call(b, token).equals(moved));
        long seen = System.nanoTime();
        System.out.printf("[%s] a relink on gateway-a reached gateway-b's calls after %.1f ms%n", planeName(),
                (seen - start) / 1e6);
        for (int i = 0; i < 20; i++) {
            assertThat(call(b, token)).as("b after the relink").isEqualTo(moved);
            assertThat(call(a, token)).as("a after the relink").isEqualTo(moved);
        }
        assertThat(servedAfter(token, seen)).as("nodes serving " + token + " once b saw the relink").containsOnly(moved);

        // Unlink: b has t2 warm, a unlinks it; b's cache forgets it and b's next call links it afresh.
        String unlinked = "player-unlinked";
        String owner = call(b, unlinked);
        assertThat(b.linkCache().target(unlinked, LOGIC)).contains(owner);
        long unlinkedAt = System.nanoTime();
        assertThat(a.linkCache().unlink(unlinked)).isEqualTo(1);
        Await.until(PROPAGATION, "gateway-b forgets the link of " + unlinked,
                () -> b.linkCache().target(unlinked, LOGIC).isEmpty());
        System.out.printf("[%s] an unlink on gateway-a reached gateway-b's near cache after %.1f ms%n", planeName(),
                (System.nanoTime() - unlinkedAt) / 1e6);
        String relinked = call(b, unlinked);
        assertThat(a.linkCache().target(unlinked, LOGIC)).as("the new link, as gateway-a sees it").contains(relinked);
        long total = logic.stream().mapToLong(n -> a.linkCache().linkCount(n.node().id())).sum();
        assertThat(total).as("links in the reverse index").isEqualTo(2);
    }

    private Set<String> servedAfter(String token, long sinceNanos) {
        return served.stream().filter(s -> s.token().equals(token) && s.atNanos() - sinceNanos > 0)
                .map(Served::node).collect(toSet());
    }

    @Test
    void aDrainingNodeTakesNoNewWorkKeepsItsPlayersAndClosesWhenTheyHaveLeft() {
        List<Braid> logic = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            logic.add(logic("logic-" + i, 100, b -> b.drainTimeout(Duration.ofSeconds(60))));
        }
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);
        Map<String, String> owners = new LinkedHashMap<>();
        for (String token : tokens("old", 30)) {
            owners.put(token, call(gateway, token));
        }
        Braid draining = byId(logic, "logic-2");
        List<String> itsTokens = owners.entrySet().stream().filter(e -> e.getValue().equals("logic-2"))
                .map(Map.Entry::getKey).toList();
        assertThat(itsTokens).as("equal weights: a third of 30 tokens").hasSize(10);

        CompletableFuture<Void> drained = draining.drain();
        assertThat(draining.drain()).as("a second drain() returns the same future").isSameAs(drained);
        awaitLogicView(gateway, "logic-2 DRAINING", nodes -> nodes.stream()
                .anyMatch(n -> n.id().equals("logic-2") && n.state() == NodeState.DRAINING));

        Map<String, Long> freshPerNode = new TreeMap<>();
        for (String token : tokens("new", 60)) {
            freshPerNode.merge(call(gateway, token), 1L, Long::sum);
        }
        assertThat(freshPerNode).as("owners of 60 fresh tokens").containsOnlyKeys("logic-1", "logic-3");
        System.out.printf("[%s] fresh tokens while logic-2 drains: %s%n", planeName(), freshPerNode);
        long statelessBefore = served.stream().filter(s -> s.token().isEmpty()).count();
        Map<String, Long> statelessPerNode = new TreeMap<>();
        for (int i = 0; i < 60; i++) {
            statelessPerNode.merge(call(gateway, ""), 1L, Long::sum);
        }
        assertThat(statelessPerNode).as("stateless calls while logic-2 drains").doesNotContainKey("logic-2");
        assertThat(served.stream().filter(s -> s.token().isEmpty()).count() - statelessBefore).isEqualTo(60);
        assertThat(served.stream().filter(s -> s.token().isEmpty() && s.node().equals("logic-2")))
                .as("stateless calls logic-2 served").isEmpty();
        for (Map.Entry<String, String> old : owners.entrySet()) {
            assertThat(call(gateway, old.getKey())).as("the owner of %s", old.getKey()).isEqualTo(old.getValue());
        }

        assertThat(gateway.linkCache().linkCount("logic-2")).isEqualTo(10);
        for (String token : itsTokens.subList(0, itsTokens.size() - 1)) {
            assertThat(gateway.linkCache().unlink(token)).isEqualTo(1);
        }
        assertThat(Await.poll(Duration.ofMillis(500), drained::isDone))
                .as("drain completed while a player was still linked").isFalse();
        long lastLeft = System.nanoTime();
        gateway.linkCache().unlink(itsTokens.get(itsTokens.size() - 1));
        Await.until(Duration.ofSeconds(5), "logic-2's drain completes once its last player left", drained::isDone);
        System.out.printf("[%s] drain completed %.0f ms after the last player left%n", planeName(),
                (System.nanoTime() - lastLeft) / 1e6);
        assertThat(drained).isCompletedWithValue(null);
        awaitLogicView(gateway, "logic-2 gone", nodes -> nodes.stream().noneMatch(n -> n.id().equals("logic-2")));
        for (Map.Entry<String, String> old : owners.entrySet()) {
            if (!old.getValue().equals("logic-2")) {
                assertThat(call(gateway, old.getKey())).as("the owner of %s", old.getKey()).isEqualTo(old.getValue());
            }
        }
    }

    @Test
    void aTokenWhoseOwnerLeftDiscoveryMovesToASurvivorOnItsNextCall() {
        List<Braid> logic = logicNodes(3);
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);
        Map<String, String> owners = new LinkedHashMap<>();
        for (String token : tokens("player", 9)) {
            owners.put(token, call(gateway, token));
        }
        List<String> orphaned = owners.entrySet().stream().filter(e -> e.getValue().equals("logic-1"))
                .map(Map.Entry::getKey).toList();
        assertThat(orphaned).hasSize(3);

        byId(logic, "logic-1").close();
        // Until the gateway's view drops logic-1 it may rightly answer UNAVAILABLE; from then on the
        // very next call of each orphaned token must succeed on a survivor.
        awaitLogicView(gateway, "logic-1 gone", nodes -> nodes.stream().noneMatch(n -> n.id().equals("logic-1")));

        for (String token : orphaned) {
            String next = call(gateway, token);
            assertThat(next).as("new owner of %s", token).isIn("logic-2", "logic-3");
            assertThat(gateway.linkCache().target(token, LOGIC)).contains(next);
            for (int i = 0; i < 5; i++) {
                assertThat(call(gateway, token)).as("%s stays with its new owner", token).isEqualTo(next);
            }
        }
        for (Map.Entry<String, String> kept : owners.entrySet()) {
            if (!orphaned.contains(kept.getKey())) {
                assertThat(call(gateway, kept.getKey())).as("a survivor's token does not move").isEqualTo(kept.getValue());
            }
        }
        assertThat(gateway.linkCache().linkCount("logic-2") + gateway.linkCache().linkCount("logic-3")).isEqualTo(9);
        assertThat(gateway.linkCache().linkCount("logic-1")).isZero();
    }

    /**
     * "Registered but unreachable" is made faithfully: a real logic node whose RPC server is shut
     * down while the rest of it lives on, so it stays in discovery (on Redis it keeps heartbeating)
     * but refuses connections, like a process that is hung or cut off from its callers only.
     */
    @Test
    void aTokenWhoseOwnerIsRegisteredButUnreachableFailsUnavailableAndKeepsItsLink() {
        List<Braid> logic = logicNodes(3);
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);
        Map<String, String> owners = new LinkedHashMap<>();
        for (String token : tokens("player", 9)) {
            owners.put(token, call(gateway, token));
        }
        Braid unreachable = byId(logic, "logic-1");
        List<String> itsTokens = owners.entrySet().stream().filter(e -> e.getValue().equals("logic-1"))
                .map(Map.Entry::getKey).toList();

        ((RpcServer) unreachable.server()).close();
        long cutOff = System.nanoTime();

        for (int round = 0; round < 3; round++) {
            for (String token : itsTokens) {
                assertThat(failureCode(gateway, token)).as("call for %s", token).isEqualTo(Code.UNAVAILABLE);
                assertThat(gateway.linkCache().target(token, LOGIC)).as("link of %s", token).contains("logic-1");
            }
        }
        assertThat(gateway.discover().nodes(LOGIC)).extracting(Node::id).as("still registered").contains("logic-1");
        assertThat(gateway.linkCache().linkCount("logic-1")).isEqualTo(3);
        for (String token : itsTokens) {
            assertThat(servedAfter(token, cutOff)).as("nodes that served %s after logic-1 became unreachable", token)
                    .isEmpty();
        }
        for (Map.Entry<String, String> other : owners.entrySet()) {
            if (!other.getValue().equals("logic-1")) {
                assertThat(call(gateway, other.getKey())).isEqualTo(other.getValue());
            }
        }

        // Once it is gone from discovery its players move on.
        unreachable.close();
        awaitLogicView(gateway, "logic-1 gone", nodes -> nodes.stream().noneMatch(n -> n.id().equals("logic-1")));
        for (String token : itsTokens) {
            assertThat(call(gateway, token)).as("new owner of %s", token).isIn("logic-2", "logic-3");
        }
    }

    /** Not a pass/fail check: prints what a cold (miss, link) and a warm (near-cache) token call cost here. */
    @Test
    void coldAndWarmCallLatency() {
        List<Braid> logic = logicNodes(3);
        Braid gateway = gateway("gateway-1");
        awaitActive(gateway, logic);
        for (String token : tokens("jit", 300)) {
            call(gateway, token); // let the JIT compile the paths before measuring
            call(gateway, token);
        }
        List<String> tokens = tokens("latency", 2_000);
        long[] cold = new long[tokens.size()];
        long[] warm = new long[tokens.size()];
        String[] owners = new String[tokens.size()];
        for (int i = 0; i < tokens.size(); i++) {
            long start = System.nanoTime();
            owners[i] = call(gateway, tokens.get(i));
            cold[i] = System.nanoTime() - start;
        }
        for (int i = 0; i < tokens.size(); i++) {
            long start = System.nanoTime();
            String owner = call(gateway, tokens.get(i));
            warm[i] = System.nanoTime() - start;
            assertThat(owner).isEqualTo(owners[i]);
        }
        System.out.printf("[%s] cold token call (miss + link): %s%n", planeName(), percentiles(cold));
        System.out.printf("[%s] warm token call (near cache):  %s%n", planeName(), percentiles(warm));
    }
}
