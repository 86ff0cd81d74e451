package io.braid.linkcache.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.braid.api.BraidException;
import io.braid.api.Code;
import io.braid.api.Link;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.internal.LinkWatcher;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every LinkCache does, run against each backend. A "member" is one process's cache on the
 * same store: its own instance (and, for Redis, its own connection and near cache).
 */
abstract class LinkCacheContract {
    /** How long a change may take to reach another member's near cache (the contract says a second). */
    static final Duration PROPAGATION = Duration.ofSeconds(1);
    /** Generous bound for whole-batch waits, so a slow machine fails with a message instead of hanging. */
    static final Duration BATCH_TIMEOUT = Duration.ofSeconds(30);

    private static final AtomicInteger PORTS = new AtomicInteger(7000);

    private final List<LinkCache> members = new ArrayList<>();
    private final List<AutoCloseable> afterMembers = new ArrayList<>();

    /** A new process's cache on the same store. */
    protected abstract LinkCache newMember();

    /** As {@link #newMember()}, with {@code watcher} hearing the changes of links. */
    protected abstract LinkCache newMember(LinkWatcher watcher);

    protected final LinkCache member() {
        LinkCache cache = newMember();
        members.add(cache);
        return cache;
    }

    /** Closes {@code resource} after every member has closed, last registered first. */
    protected final <T extends AutoCloseable> T closeAfterMembers(T resource) {
        afterMembers.add(resource);
        return resource;
    }

    @AfterEach
    void closeMembers() throws Exception {
        for (LinkCache member : members) {
            member.close();
        }
        for (int i = afterMembers.size() - 1; i >= 0; i--) {
            afterMembers.get(i).close();
        }
    }

    static Node node(String id, String service) {
        return Node.of(id, service, "127.0.0.1", PORTS.getAndIncrement(), 100);
    }

    static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(BATCH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw BraidException.from(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within " + BATCH_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * What a call failed with, whether the method threw at once or returned a future that failed.
     * Fails the test when the call succeeds or hangs.
     */
    static Throwable failureOf(String what, Supplier<? extends CompletableFuture<?>> call) {
        CompletableFuture<?> future;
        try {
            future = call.get();
        } catch (RuntimeException thrown) {
            return thrown;
        }
        try {
            Object value = future.get(5, TimeUnit.SECONDS);
            return fail(what + ": expected a failure, but the call completed with " + value);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail(what + ": the call neither failed nor completed within 5 s (hangs)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        }
    }

    @Test
    void anUnknownTokenHasNoTargetAndUnknownNodesNoLinks() {
        LinkCache cache = member();
        Node logic = node("logic-1", "logic");

        assertThat(cache.target("nobody", "logic")).isEmpty();
        assertThat(cache.linkCount("logic-1")).isZero();
        assertThat(cache.unlink("nobody")).isZero();
        assertThat(cache.unlink("nobody", logic)).isFalse();
        assertThat(cache.down(logic)).isZero();
        assertThat(cache.target("nobody", "logic")).isEmpty();
    }

    @Test
    void aLinkIsSeenByAnotherMember() {
        LinkCache first = member();
        LinkCache second = member();
        Node logic = node("logic-1", "logic");

        assertThat(first.link("player-1", logic)).isEqualTo("logic-1");

        assertThat(second.target("player-1", "logic")).contains("logic-1");
        assertThat(first.target("player-1", "logic")).contains("logic-1");
        assertThat(second.target("player-1", "chat")).isEmpty();
        assertThat(second.target("player-2", "logic")).isEmpty();
        assertThat(second.linkCount("logic-1")).isEqualTo(1);
    }

    @Test
    void theFirstWriterWins() {
        LinkCache first = member();
        LinkCache second = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");

        assertThat(first.link("player-1", a)).isEqualTo("logic-a");
        assertThat(second.link("player-1", b)).isEqualTo("logic-a");
        assertThat(first.link("player-1", b)).isEqualTo("logic-a");

        // The loser must not have cached its own candidate.
        assertThat(second.target("player-1", "logic")).contains("logic-a");
        assertThat(first.target("player-1", "logic")).contains("logic-a");
        assertThat(first.linkCount("logic-a")).isEqualTo(1);
        assertThat(first.linkCount("logic-b")).isZero();
    }

    @Test
    void membersRacingToLinkTenThousandTokensAgreeOnExactlyOneOwnerEach() {
        LinkCache first = member();
        LinkCache second = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        int tokens = 10_000;

        List<CompletableFuture<String>> byFirst = new ArrayList<>(tokens);
        List<CompletableFuture<String>> bySecond = new ArrayList<>(tokens);
        for (int i = 0; i < tokens; i++) {
            boolean swapped = i % 2 == 1;
            String token = "race-" + i;
            byFirst.add(first.linkAsync(token, swapped ? b : a));
            bySecond.add(second.linkAsync(token, swapped ? a : b));
        }

        Map<String, Long> tally = new HashMap<>();
        for (int i = 0; i < tokens; i++) {
            String token = "race-" + i;
            String owner = await(byFirst.get(i));
            assertThat(await(bySecond.get(i))).as("the second member's answer for %s", token).isEqualTo(owner);
            assertThat(owner).isIn("logic-a", "logic-b");
            assertThat(first.target(token, "logic")).as("first member's target of %s", token).contains(owner);
            assertThat(second.target(token, "logic")).as("second member's target of %s", token).contains(owner);
            tally.merge(owner, 1L, Long::sum);
        }
        long countA = first.linkCount("logic-a");
        long countB = second.linkCount("logic-b");
        System.out.printf("%s: race won by logic-a %d, logic-b %d%n", getClass().getSimpleName(), countA, countB);
        assertThat(countA + countB).isEqualTo(tokens);
        assertThat(countA).isEqualTo(tally.getOrDefault("logic-a", 0L)).isPositive();
        assertThat(countB).isEqualTo(tally.getOrDefault("logic-b", 0L)).isPositive();
    }

    @Test
    void linksArePerServiceAndUnlinkRemovesThemAll() {
        LinkCache first = member();
        LinkCache second = member();
        Node logic = node("logic-1", "logic");
        Node chat = node("chat-1", "chat");

        assertThat(first.link("player-1", logic)).isEqualTo("logic-1");
        assertThat(first.link("player-1", chat)).isEqualTo("chat-1");
        assertThat(second.target("player-1", "logic")).contains("logic-1");
        assertThat(second.target("player-1", "chat")).contains("chat-1");

        assertThat(second.unlink("player-1")).isEqualTo(2);

        assertThat(second.target("player-1", "logic")).isEmpty();
        assertThat(second.target("player-1", "chat")).isEmpty();
        assertThat(second.linkCount("logic-1")).isZero();
        assertThat(second.linkCount("chat-1")).isZero();
        Await.until(PROPAGATION, "the first member sees both links gone",
                () -> first.target("player-1", "logic").isEmpty() && first.target("player-1", "chat").isEmpty());
        assertThat(first.unlink("player-1")).isZero();
    }

    @Test
    void relinkOverwritesAndMovesTheCount() {
        LinkCache first = member();
        LinkCache second = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        first.link("player-1", a);
        first.link("player-2", a);

        first.relink("player-1", b);

        assertThat(first.target("player-1", "logic")).contains("logic-b");
        assertThat(second.target("player-1", "logic")).contains("logic-b");
        assertThat(second.linkCount("logic-a")).isEqualTo(1);
        assertThat(second.linkCount("logic-b")).isEqualTo(1);

        first.relink("player-1", b); // again: nothing moves
        assertThat(second.linkCount("logic-b")).isEqualTo(1);
        assertThat(second.linkCount("logic-a")).isEqualTo(1);

        second.relink("player-3", b); // a token without a link gets one
        assertThat(first.target("player-3", "logic")).contains("logic-b");
        assertThat(first.linkCount("logic-b")).isEqualTo(2);
        assertThat(first.link("player-3", a)).as("relink's link counts for first-writer-wins").isEqualTo("logic-b");
    }

    /** Pitaya issue #251: a player reconnects quickly; the old gateway's late unlink must not log them out. */
    @Test
    void aLateUnlinkFromTheOldOwnerKeepsTheNewerLink() {
        LinkCache oldGateway = member();
        LinkCache newGateway = member();
        Node oldOwner = node("gate-old", "gate");
        Node newOwner = node("gate-new", "gate");
        assertThat(oldGateway.link("player-1", oldOwner)).isEqualTo("gate-old");
        assertThat(oldGateway.target("player-1", "gate")).contains("gate-old");

        newGateway.relink("player-1", newOwner);
        assertThat(newGateway.target("player-1", "gate")).contains("gate-new");

        assertThat(oldGateway.unlink("player-1", oldOwner)).isFalse();

        assertThat(newGateway.target("player-1", "gate")).contains("gate-new");
        Await.until(PROPAGATION, "the old gateway sees the new owner",
                () -> oldGateway.target("player-1", "gate").equals(Optional.of("gate-new")));
        assertThat(newGateway.linkCount("gate-new")).isEqualTo(1);
        assertThat(newGateway.linkCount("gate-old")).isZero();

        assertThat(oldGateway.unlink("player-1", newOwner)).isTrue();
        assertThat(oldGateway.target("player-1", "gate")).isEmpty();
        Await.until(PROPAGATION, "the new gateway sees the link gone",
                () -> newGateway.target("player-1", "gate").isEmpty());
        assertThat(newGateway.linkCount("gate-new")).isZero();
        assertThat(oldGateway.unlink("player-1", newOwner)).as("nothing left to remove").isFalse();
    }

    @Test
    void downRemovesOnlyTheLinksThatStillPointAtTheNode() {
        LinkCache leader = member();
        LinkCache other = member();
        Node dead = node("logic-dead", "logic");
        Node alive = node("logic-alive", "logic");
        Node chat = node("chat-1", "chat");
        for (int i = 0; i < 50; i++) {
            leader.link("player-" + i, dead);
        }
        other.link("player-50", alive);
        other.relink("player-7", alive); // moved away before the node went down
        other.link("player-8", chat); // another service's link of a token that is on the dead node
        assertThat(other.target("player-3", "logic")).contains("logic-dead");

        assertThat(leader.down(dead)).isEqualTo(49);

        assertThat(leader.linkCount("logic-dead")).isZero();
        assertThat(leader.linkCount("logic-alive")).isEqualTo(2);
        assertThat(leader.target("player-3", "logic")).isEmpty();
        assertThat(leader.target("player-7", "logic")).contains("logic-alive");
        assertThat(leader.target("player-50", "logic")).contains("logic-alive");
        assertThat(leader.target("player-8", "chat")).contains("chat-1");
        Await.until(PROPAGATION, "the other member sees the dead node's links gone",
                () -> other.target("player-3", "logic").isEmpty());
        assertThat(other.target("player-7", "logic")).contains("logic-alive");
        assertThat(leader.down(dead)).as("a second down finds nothing").isZero();
        assertThat(other.link("player-3", alive)).as("the token is free again").isEqualTo("logic-alive");
    }

    @Test
    void randomOperationsFromFourThreadsLeaveNoDrift() throws Exception {
        List<LinkCache> workers = List.of(member(), member());
        List<Node> nodes = List.of(node("logic-1", "logic"), node("logic-2", "logic"), node("logic-3", "logic"),
                node("chat-1", "chat"), node("chat-2", "chat"));
        List<String> services = List.of("logic", "chat");
        int tokens = 2_000;
        int threads = 4;
        int operations = 100_000;
        int batch = 1_000;

        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                LinkCache cache = workers.get(t % workers.size());
                Random random = new Random(20_240_601L + t);
                runs.add(pool.submit(() -> {
                    for (int done = 0; done < operations / threads; done += batch) {
                        List<CompletableFuture<?>> inFlight = new ArrayList<>(batch);
                        for (int i = 0; i < batch; i++) {
                            inFlight.add(randomOperation(cache, random, tokens, nodes, services));
                        }
                        await(CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)));
                    }
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get(BATCH_TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
            }
        }
        System.out.printf("%s: %,d random operations in %.0f ms%n", getClass().getSimpleName(), operations,
                (System.nanoTime() - start) / 1e6);

        LinkCache fresh = member(); // an empty near cache: what the store itself says
        Map<String, CompletableFuture<Optional<String>>> reads = new HashMap<>();
        for (int i = 0; i < tokens; i++) {
            for (String service : services) {
                reads.put("tok-" + i + "/" + service, fresh.targetAsync("tok-" + i, service));
            }
        }
        Map<String, Optional<String>> truth = new HashMap<>();
        Map<String, Long> tally = new HashMap<>();
        reads.forEach((key, read) -> {
            Optional<String> owner = await(read);
            truth.put(key, owner);
            owner.ifPresent(id -> tally.merge(id, 1L, Long::sum));
        });
        assertThat(tally.values().stream().mapToLong(Long::longValue).sum()).as("links left").isPositive();
        for (Node node : nodes) {
            assertThat(fresh.linkCount(node.id())).as("linkCount of %s", node.id())
                    .isEqualTo(tally.getOrDefault(node.id(), 0L));
        }
        for (Map.Entry<String, Optional<String>> link : truth.entrySet()) {
            String service = link.getKey().substring(link.getKey().indexOf('/') + 1);
            link.getValue().ifPresent(owner -> assertThat(nodes).filteredOn(n -> n.id().equals(owner))
                    .as("owner of %s is a node of that service", link.getKey())
                    .singleElement().extracting(Node::service).isEqualTo(service));
        }
        for (LinkCache worker : workers) {
            AtomicReference<String> wrong = new AtomicReference<>();
            Await.until(Duration.ofSeconds(2), () -> "every worker's near cache to agree with the store, first "
                    + "disagreement: " + wrong.get(), () -> {
                        for (Map.Entry<String, Optional<String>> link : truth.entrySet()) {
                            String key = link.getKey();
                            int slash = key.indexOf('/');
                            Optional<String> seen = worker.target(key.substring(0, slash), key.substring(slash + 1));
                            if (!seen.equals(link.getValue())) {
                                wrong.set(key + " seen as " + seen + " but is " + link.getValue());
                                return false;
                            }
                        }
                        return true;
                    });
        }
    }

    private static CompletableFuture<?> randomOperation(LinkCache cache, Random random, int tokens, List<Node> nodes,
                                                        List<String> services) {
        String token = "tok-" + random.nextInt(tokens);
        Node node = nodes.get(random.nextInt(nodes.size()));
        int dice = random.nextInt(1_000);
        if (dice < 350) {
            return cache.linkAsync(token, node);
        } else if (dice < 550) {
            return cache.relinkAsync(token, node);
        } else if (dice < 700) {
            return cache.unlinkAsync(token, node);
        } else if (dice < 800) {
            return cache.unlinkAsync(token);
        } else if (dice < 999) {
            return cache.targetAsync(token, services.get(random.nextInt(services.size())));
        } else {
            return cache.downAsync(node);
        }
    }

    @Test
    void anUnlinkReachesAMemberThatHadTheTokenCached() {
        LinkCache writer = member();
        LinkCache reader = member();
        writer.link("player-1", node("logic-1", "logic"));
        assertThat(reader.target("player-1", "logic")).contains("logic-1"); // now in its near cache

        long start = System.nanoTime();
        assertThat(writer.unlink("player-1")).isEqualTo(1);

        Await.until(PROPAGATION, "the reader sees the unlink", () -> reader.target("player-1", "logic").isEmpty());
        System.out.printf("%s: unlink seen by another member after %.1f ms%n", getClass().getSimpleName(),
                (System.nanoTime() - start) / 1e6);
        assertThat(writer.target("player-1", "logic")).as("the writer reads its own write").isEmpty();
    }

    @Test
    void relinkCompareUnlinkAndDownReachAMemberThatHadTheTokensCached() {
        LinkCache writer = member();
        LinkCache reader = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        writer.link("moved", a);
        writer.link("left", a);
        writer.link("dropped", b);
        for (String token : List.of("moved", "left")) {
            assertThat(reader.target(token, "logic")).contains("logic-a");
        }
        assertThat(reader.target("dropped", "logic")).contains("logic-b");

        writer.relink("moved", b);
        assertThat(writer.unlink("left", a)).isTrue();
        assertThat(writer.down(b)).isEqualTo(2); // "dropped" and "moved", now on b

        assertThat(writer.target("moved", "logic")).isEmpty();
        Await.until(PROPAGATION, "the reader sees every change", () -> reader.target("moved", "logic").isEmpty()
                && reader.target("left", "logic").isEmpty() && reader.target("dropped", "logic").isEmpty());
    }

    @Test
    void aLinkMadeAfterAMissReachesTheMemberThatMissed() {
        LinkCache writer = member();
        LinkCache reader = member();
        assertThat(reader.target("player-1", "logic")).isEmpty();

        writer.link("player-1", node("logic-1", "logic"));

        Await.until(PROPAGATION, "the reader sees the new link",
                () -> reader.target("player-1", "logic").equals(Optional.of("logic-1")));
    }

    @Test
    void blockingMethodsWorkFromAPlainThread() throws Exception {
        LinkCache cache = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        List<Object> results = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();

        Thread plain = Thread.ofPlatform().name("plain-caller").start(() -> {
            try {
                results.add(cache.link("player-1", a));
                results.add(cache.link("player-1", b));
                results.add(cache.target("player-1", "logic"));
                cache.relink("player-1", b);
                results.add(cache.target("player-1", "logic"));
                results.add(cache.linkCount("logic-b"));
                results.add(cache.unlink("player-1", a));
                results.add(cache.unlink("player-1", b));
                cache.link("player-2", a);
                cache.link("player-3", a);
                results.add(cache.down(a));
                cache.link("player-4", b);
                results.add(cache.unlink("player-4"));
                results.add(cache.linkCount("logic-b"));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        plain.join(BATCH_TIMEOUT.toMillis());

        assertThat(plain.isAlive()).as("the blocking calls returned").isFalse();
        assertThat(failure.get()).isNull();
        assertThat(results).containsExactly("logic-a", "logic-a", Optional.of("logic-a"), Optional.of("logic-b"), 1L,
                false, true, 2L, 1, 0L);
    }

    @Test
    void badInputFailsWithAClearException() {
        LinkCache cache = member();
        Node a = node("logic-a", "logic");

        for (String token : new String[] {null, "", "   "}) {
            String what = "token " + (token == null ? "null" : "'" + token + "'");
            assertBadInput(what + " in targetAsync", () -> cache.targetAsync(token, "logic"), "token");
            assertBadInput(what + " in linkAsync", () -> cache.linkAsync(token, a), "token");
            assertBadInput(what + " in relinkAsync", () -> cache.relinkAsync(token, a), "token");
            assertBadInput(what + " in unlinkAsync", () -> cache.unlinkAsync(token), "token");
            assertBadInput(what + " in unlinkAsync(owner)", () -> cache.unlinkAsync(token, a), "token");
            assertBadInput(what + " in linkOfAsync", () -> cache.linkOfAsync(token, "logic"), "token");
            assertBadInput(what + " in claimAsync", () -> cache.claimAsync(token, a), "token");
            assertBadInput(what + " in moveAsync", () -> cache.moveAsync(token, new Link("logic-a", 1), a), "token");
        }
        for (String service : new String[] {null, "", " ", "lo\u0000gic"}) {
            assertBadInput("service " + service, () -> cache.targetAsync("player-1", service), "service");
            assertBadInput("service " + service + " in linkOfAsync", () -> cache.linkOfAsync("player-1", service),
                    "service");
        }
        Node nulInService = node("logic-nul", "lo\u0000gic");
        assertBadInput("a NUL in the candidate's service", () -> cache.claimAsync("player-1", nulInService), "service");
        assertBadInput("null expected link in move", () -> cache.moveAsync("player-1", null, a), "expected");
        assertBadInput("null target of a move", () -> cache.moveAsync("player-1", new Link("logic-a", 1), null), "to");
        assertBadInput("null candidate in claim", () -> cache.claimAsync("player-1", null), "candidate");
        assertBadInput("null candidate", () -> cache.linkAsync("player-1", null), "candidate", "node");
        assertBadInput("null node in relink", () -> cache.relinkAsync("player-1", null), "node");
        assertBadInput("null owner", () -> cache.unlinkAsync("player-1", null), "owner", "node");
        assertBadInput("null node in down", () -> cache.downAsync(null), "node");
        assertBadInput("null node id", () -> cache.linkCountAsync(null), "node");
        assertBadInput("blank token in blocking link", () -> CompletableFuture.completedFuture(cache.link(" ", a)),
                "token");
        assertThat(cache.linkCount("logic-a")).as("nothing was linked").isZero();
        assertThat(cache.target("player-1", "logic")).isEmpty();
    }

    /**
     * The project's rule for bad arguments: a call that returns a future never throws; its future
     * fails with INVALID_ARGUMENT naming the argument. (A blocking call throws that same exception.)
     */
    private static void assertBadInput(String what, Supplier<? extends CompletableFuture<?>> call, String... namedOneOf) {
        CompletableFuture<?> future;
        try {
            future = call.get();
        } catch (RuntimeException thrown) {
            if (!what.contains("blocking")) {
                throw new AssertionError(what + ": threw " + thrown + " instead of failing its future", thrown);
            }
            future = CompletableFuture.failedFuture(thrown);
        }
        CompletableFuture<?> answered = future;
        Throwable failure = failureOf(what, () -> answered);
        assertThat(failure).as(what).isInstanceOf(BraidException.class)
                .extracting(e -> ((BraidException) e).code()).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(failure.getMessage()).as("message of %s", what).isNotBlank();
        assertThat(failure.getMessage().toLowerCase(java.util.Locale.ROOT)).as("message of %s names the argument", what)
                .containsAnyOf(namedOneOf);
    }

    @Test
    void aWatcherHearsEveryChangeOfALinkWithItsNewOwnerAndEpochInTheTokensOrder() {
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        // Only this test's tokens and nodes: on a Cluster, an earlier test's changes (published on
        // the same channel) may still be on their way over the cluster bus when this one subscribes.
        LinkCache watched = newMember(new LinkWatcher() {
            @Override
            public void changed(String token, String service, String owner, long epoch) {
                if (token.startsWith("w-")) {
                    heard.add(token + " " + service + " -> " + owner + " @" + epoch);
                }
            }

            @Override
            public void nodeCleared(String nodeId) {
                if (nodeId.startsWith("watch-")) {
                    heard.add("cleared " + nodeId);
                }
            }

            @Override
            public void mayHaveMissed() {
            }
        });
        members.add(watched);
        LinkCache other = member();
        Node a = node("watch-a", "logic");
        Node b = node("watch-b", "logic");
        Link w1a = await(other.claimAsync("w-1", a));
        Link w1b = await(other.relinkAsync("w-1", b));
        await(other.unlinkAsync("w-1", b));
        Link w2 = await(watched.claimAsync("w-2", a)); // its own changes too
        await(other.unlinkAsync("w-2"));
        Link w3 = await(other.claimAsync("w-3", a));
        await(other.downAsync(a));
        List<String> expected = List.of("w-1 logic -> watch-a @" + w1a.epoch(), "w-1 logic -> watch-b @" + w1b.epoch(),
                "w-1 logic -> null @" + w1b.epoch(), "w-2 logic -> watch-a @" + w2.epoch(),
                "w-2 logic -> null @" + w2.epoch(), "w-3 logic -> watch-a @" + w3.epoch(), "cleared watch-a");
        io.braid.testkit.Await.until(BATCH_TIMEOUT, () -> "the watcher heard " + expected + ", heard so far " + heard,
                () -> heard.size() >= expected.size());
        // Each token's changes in the order they were made; on a Cluster, changes of tokens in slots of
        // different masters reach a subscriber over different links, so only the per-token order holds.
        assertThat(heard).containsExactlyInAnyOrderElementsOf(expected);
        for (String token : List.of("w-1 ", "w-2 ", "w-3 ")) {
            assertThat(heard.stream().filter(h -> h.startsWith(token)).toList()).as("the changes of " + token)
                    .containsExactlyElementsOf(expected.stream().filter(h -> h.startsWith(token)).toList());
        }
        assertThat(w1b.epoch()).as("a relink to another node").isGreaterThan(w1a.epoch());
    }

    // ---- epochs: every change of owner gives a link a higher epoch; a move is a compare-and-set ----

    @Test
    void epochsGrowWithEveryChangeOfOwnerAndEveryMemberReadsTheSame() {
        LinkCache first = member();
        LinkCache second = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Node c = node("logic-c", "logic");

        Link linked = first.claim("player-1", a);
        assertThat(linked.nodeId()).isEqualTo("logic-a");
        assertThat(linked.epoch()).as("links braid makes have epochs above 0").isPositive();
        assertThat(second.claim("player-1", b)).as("the loser gets the winner's link, epoch and all").isEqualTo(linked);
        assertThat(second.linkOf("player-1", "logic")).contains(linked);
        assertThat(first.linkOf("player-1", "chat")).isEmpty();

        Link relinked = second.relink("player-1", b);
        assertThat(relinked.nodeId()).isEqualTo("logic-b");
        assertThat(relinked.epoch()).as("a relink to another node").isGreaterThan(linked.epoch());
        assertThat(second.relink("player-1", b)).as("a relink to the node it is on changes no owner").isEqualTo(relinked);

        Optional<Link> moved = first.move("player-1", relinked, c);
        assertThat(moved).as("a move from the link as read").isPresent();
        assertThat(moved.get().nodeId()).isEqualTo("logic-c");
        assertThat(moved.get().epoch()).as("a move").isGreaterThan(relinked.epoch());
        assertThat(first.move("player-1", moved.get(), c)).as("a move to where it already is changes nothing")
                .contains(moved.get());

        assertThat(first.linkOf("player-1", "logic")).as("the mover reads its own move").isEqualTo(moved);
        Await.until(PROPAGATION, "the other member sees the move with its epoch",
                () -> second.linkOf("player-1", "logic").equals(moved));
        assertThat(second.target("player-1", "logic")).contains("logic-c");
        assertThat(first.linkCount("logic-a")).isZero();
        assertThat(first.linkCount("logic-b")).isZero();
        assertThat(first.linkCount("logic-c")).isEqualTo(1);
    }

    @Test
    void aTokenLinkedAgainAfterItsLinkWasRemovedGetsAHigherEpoch() {
        LinkCache cache = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");

        Link first = cache.claim("player-1", a);
        assertThat(cache.unlink("player-1")).isEqualTo(1);
        Link second = cache.claim("player-1", b);
        assertThat(second.epoch()).as("after unlink(token)").isGreaterThan(first.epoch());

        assertThat(cache.unlink("player-1", b)).isTrue();
        Link third = cache.claim("player-1", a);
        assertThat(third.epoch()).as("after unlink(token, owner)").isGreaterThan(second.epoch());

        assertThat(cache.down(a)).isEqualTo(1);
        Link fourth = cache.claim("player-1", a);
        assertThat(fourth.epoch()).as("after down(node)").isGreaterThan(third.epoch());
        assertThat(fourth.nodeId()).isEqualTo("logic-a");
    }

    /**
     * A move is a compare-and-set on (node, epoch): from a node the link no longer points at, or
     * under an epoch that is no longer the link's (even when the link came back to the same node
     * since: A, then B, then A again), it changes nothing and completes empty.
     */
    @Test
    void aMoveFromAWrongNodeOrUnderAWrongEpochChangesNothing() {
        LinkCache cache = member();
        LinkCache other = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Node c = node("logic-c", "logic");
        Link onA = cache.claim("player-1", a);

        assertThat(cache.move("player-1", new Link("logic-b", onA.epoch()), c)).as("from another node").isEmpty();
        assertThat(cache.move("player-1", new Link("logic-a", onA.epoch() + 1), c)).as("under a later epoch").isEmpty();
        assertThat(cache.move("player-1", new Link("logic-a", onA.epoch() - 1), c)).as("under an earlier epoch").isEmpty();
        assertThat(cache.move("nobody", onA, c)).as("a token without a link").isEmpty();
        assertThat(cache.linkOf("player-1", "logic")).contains(onA);

        other.relink("player-1", b);
        Link backOnA = other.relink("player-1", a);
        assertThat(backOnA.nodeId()).isEqualTo("logic-a");
        assertThat(cache.move("player-1", onA, c)).as("from A under the epoch A had before it left and came back")
                .isEmpty();

        Await.until(PROPAGATION, "the mover sees the link back on A under its new epoch",
                () -> cache.linkOf("player-1", "logic").equals(Optional.of(backOnA)));
        assertThat(other.linkOf("player-1", "logic")).contains(backOnA);
        assertThat(cache.linkCount("logic-a")).isEqualTo(1);
        assertThat(cache.linkCount("logic-c")).isZero();
        assertThat(cache.move("player-1", backOnA, c)).as("the link as it is now moves")
                .hasValueSatisfying(moved -> assertThat(moved.epoch()).isGreaterThan(backOnA.epoch()));
    }

    /** Two members hand the same players over at once, from the same link: exactly one wins each. */
    @Test
    void ofTwoConcurrentMovesFromTheSameLinkExactlyOneWins() {
        LinkCache first = member();
        LinkCache second = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Node c = node("logic-c", "logic");
        int tokens = 500;
        List<Link> before = new ArrayList<>(tokens);
        for (int i = 0; i < tokens; i++) {
            before.add(first.claim("handoff-" + i, a));
        }

        List<CompletableFuture<Optional<Link>>> toB = new ArrayList<>(tokens);
        List<CompletableFuture<Optional<Link>>> toC = new ArrayList<>(tokens);
        for (int i = 0; i < tokens; i++) {
            boolean swapped = i % 2 == 1; // neither member always goes first
            String token = "handoff-" + i;
            if (swapped) {
                toC.add(second.moveAsync(token, before.get(i), c));
                toB.add(first.moveAsync(token, before.get(i), b));
            } else {
                toB.add(first.moveAsync(token, before.get(i), b));
                toC.add(second.moveAsync(token, before.get(i), c));
            }
        }

        long wonByB = 0;
        Map<String, Link> winners = new HashMap<>();
        for (int i = 0; i < tokens; i++) {
            String token = "handoff-" + i;
            Optional<Link> b1 = await(toB.get(i));
            Optional<Link> c1 = await(toC.get(i));
            assertThat(b1.isPresent() ^ c1.isPresent()).as("exactly one move of %s won: %s, %s", token, b1, c1).isTrue();
            Link winner = b1.orElseGet(c1::get);
            assertThat(winner.epoch()).isGreaterThan(before.get(i).epoch());
            winners.put(token, winner);
            wonByB += b1.isPresent() ? 1 : 0;
        }
        AtomicReference<String> wrong = new AtomicReference<>();
        Await.until(PROPAGATION, () -> "both members to read each winner, first disagreement: " + wrong.get(), () -> {
            for (Map.Entry<String, Link> won : winners.entrySet()) {
                for (LinkCache member : List.of(first, second)) {
                    Optional<Link> seen = member.linkOf(won.getKey(), "logic");
                    if (!seen.equals(Optional.of(won.getValue()))) {
                        wrong.set(won.getKey() + " seen as " + seen + ", won by " + won.getValue());
                        return false;
                    }
                }
            }
            return true;
        });
        System.out.printf("%s: concurrent moves won by logic-b %d, logic-c %d%n", getClass().getSimpleName(), wonByB,
                tokens - wonByB);
        assertThat(first.linkCount("logic-a")).isZero();
        assertThat(first.linkCount("logic-b")).isEqualTo(wonByB);
        assertThat(first.linkCount("logic-c")).isEqualTo(tokens - wonByB);
    }

    /**
     * What the store does when it loses everything (a Redis restarted empty: every master of a
     * Cluster); returns once it serves again. In memory nothing is ever lost: nothing to do.
     */
    protected abstract void loseAllData();

    /**
     * Delivers to the members' near caches, late, the invalidation of a change of owner that was
     * made before the link they hold now (pub/sub lagging behind a read). Returns false when the
     * store has no such channel (in memory: changes reach every member at once, in order).
     */
    protected abstract boolean deliverLate(String token, String service, Link older);

    @Test
    void aStoreThatLostItsDataStillHandsOutHigherEpochs() {
        LinkCache cache = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Link moved = cache.relink("player-1", b);
        for (int i = 0; i < 20; i++) { // run the shard's counter up a little; ends on B
            moved = cache.relink("player-1", i % 2 == 0 ? a : b);
        }
        Link before = moved;
        assertThat(before.nodeId()).isEqualTo("logic-b");

        loseAllData();

        AtomicReference<Link> after = new AtomicReference<>();
        Await.until(Duration.ofSeconds(20), "the cache links again after the data loss", () -> {
            try {
                after.set(cache.relink("player-1", a)); // a new owner whether the link on B was lost or not
                return true;
            } catch (BraidException e) {
                return false;
            }
        });
        assertThat(after.get().epoch()).as("the first epoch after the loss, against %s before it", before)
                .isGreaterThan(before.epoch());
        assertThat(cache.relink("player-1", b).epoch()).isGreaterThan(after.get().epoch());
    }

    /**
     * A near cache holds a newer link (read after a move) when the invalidation of an older change
     * of owner arrives: it keeps the newer link; an older owner is never installed.
     */
    @Test
    void aNearCacheThatHearsAnOlderChangeAfterANewerOneKeepsTheNewerOwner() {
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        LinkCache reader = newMember(new LinkWatcher() {
            @Override
            public void changed(String token, String service, String owner, long epoch) {
                heard.add(token + " -> " + owner + " @" + epoch);
            }

            @Override
            public void nodeCleared(String nodeId) {
            }

            @Override
            public void mayHaveMissed() {
            }
        });
        members.add(reader);
        LinkCache writer = member();
        Node a = node("logic-a", "logic");
        Node b = node("logic-b", "logic");
        Link onA = writer.claim("player-1", a);
        Link onB = writer.move("player-1", onA, b).orElseThrow();
        Await.until(PROPAGATION, "the reader holds the newer link",
                () -> reader.linkOf("player-1", "logic").equals(Optional.of(onB)));
        String late = "player-1 -> logic-a @" + onA.epoch();

        if (deliverLate("player-1", "logic", onA)) {
            Await.until(PROPAGATION, () -> "the reader heard the late change '" + late + "', heard " + heard,
                    () -> heard.stream().filter(late::equals).count() == 2); // once in time, once late
        }

        assertThat(reader.linkOf("player-1", "logic")).as("the reader's link after the late change").contains(onB);
        assertThat(reader.target("player-1", "logic")).contains("logic-b");
    }
}
