package io.braid.discover.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.Discover;
import io.braid.api.DiscoverEvent;
import io.braid.api.Node;
import io.braid.api.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every Discover does, run against each backend. A "member" is one process's view of the
 * cluster: its own instance (and, for Redis, its own connection).
 */
abstract class DiscoverContract {
    private final List<Discover> members = new ArrayList<>();
    private final List<AutoCloseable> afterMembers = new ArrayList<>();

    /** A new member of the same cluster. */
    protected abstract Discover newMember();

    /** Makes {@code member} vanish as a crashed process would: no deregistration. */
    protected abstract void crash(Discover member);

    /** How long after a crash the others must have seen REMOVED. */
    protected abstract Duration crashDetectionBound();

    protected final Discover member() {
        Discover discover = newMember();
        members.add(discover);
        return discover;
    }

    /** Closes {@code resource} after every member has closed, last registered first. */
    protected final <T extends AutoCloseable> T closeAfterMembers(T resource) {
        afterMembers.add(resource);
        return resource;
    }

    @AfterEach
    void closeMembers() throws Exception {
        for (Discover member : members) {
            member.close();
        }
        for (int i = afterMembers.size() - 1; i >= 0; i--) {
            afterMembers.get(i).close();
        }
    }

    /** A watcher that notes when each event arrived. */
    static final class Recorder implements java.util.function.Consumer<DiscoverEvent> {
        final List<DiscoverEvent> events = new CopyOnWriteArrayList<>();
        volatile long firstAtNanos;

        @Override
        public void accept(DiscoverEvent event) {
            if (events.isEmpty()) {
                firstAtNanos = System.nanoTime();
            }
            events.add(event);
        }

        double millisSince(long startNanos) {
            return (firstAtNanos - startNanos) / 1e6;
        }
    }

    static Node node(String id, String service, int port) {
        return Node.of(id, service, "127.0.0.1", port, 100);
    }

    static void await(String what, Duration within, BooleanSupplier condition) {
        io.braid.testkit.Await.until(within, what, condition);
    }

    @Test
    void aJoinIsSeenByAnotherMemberWithinOneSecond() throws Exception {
        Discover watcher = member();
        Recorder recorder = new Recorder();
        List<DiscoverEvent> events = recorder.events;
        watcher.watch(recorder);
        Discover joiner = member();

        long start = System.nanoTime();
        joiner.register(node("logic-1", "logic", 7001));

        await("ADDED reaches the watcher", Duration.ofSeconds(1), () -> !events.isEmpty());
        System.out.printf("%s: join seen after %.1f ms%n", getClass().getSimpleName(), recorder.millisSince(start));
        assertThat(events).containsExactly(DiscoverEvent.added(node("logic-1", "logic", 7001)));
        assertThat(watcher.nodes("logic")).containsExactly(node("logic-1", "logic", 7001));
        assertThat(watcher.services()).contains("logic");
    }

    @Test
    void aChangedRecordIsUpdatedWithThePreviousOne() throws Exception {
        Discover watcher = member();
        Discover owner = member();
        Node before = node("logic-1", "logic", 7001);
        owner.register(before);
        await("watcher sees the node", Duration.ofSeconds(1), () -> watcher.nodes("logic").contains(before));
        List<DiscoverEvent> events = new CopyOnWriteArrayList<>();
        watcher.watch(events::add);

        Node after = before.withWeight(40).withState(io.braid.api.NodeState.DRAINING);
        owner.register(after);

        await("UPDATED reaches the watcher", Duration.ofSeconds(1), () -> !events.isEmpty());
        assertThat(events).containsExactly(DiscoverEvent.updated(before, after));
        assertThat(watcher.nodes("logic")).containsExactly(after);
    }

    @Test
    void aGracefulLeaveIsSeenWithinOneSecond() throws Exception {
        Discover watcher = member();
        Discover leaver = member();
        leaver.register(node("logic-1", "logic", 7001));
        leaver.register(node("logic-2", "logic", 7002));
        await("watcher sees both", Duration.ofSeconds(1), () -> watcher.nodes("logic").size() == 2);
        Recorder recorder = new Recorder();
        List<DiscoverEvent> events = recorder.events;
        watcher.watch(recorder);

        long start = System.nanoTime();
        leaver.deregister("logic-1");

        await("REMOVED reaches the watcher", Duration.ofSeconds(1), () -> !events.isEmpty());
        System.out.printf("%s: leave seen after %.1f ms%n", getClass().getSimpleName(), recorder.millisSince(start));
        assertThat(events).containsExactly(DiscoverEvent.removed(node("logic-1", "logic", 7001)));
        assertThat(watcher.nodes("logic")).containsExactly(node("logic-2", "logic", 7002));
    }

    @Test
    void closeDeregistersEveryNodeOfThatMember() throws Exception {
        Discover watcher = member();
        Discover closing = newMember();
        closing.register(node("logic-1", "logic", 7001));
        closing.register(node("gate-1", "gate", 7002));
        await("watcher sees both", Duration.ofSeconds(1), () -> watcher.services().containsAll(List.of("logic", "gate")));

        closing.close();

        await("both gone", Duration.ofSeconds(1), () -> watcher.nodes("logic").isEmpty() && watcher.nodes("gate").isEmpty());
        assertThat(watcher.services()).doesNotContain("logic", "gate");
    }

    @Test
    void aCrashedMemberIsRemovedWithinItsBound() throws Exception {
        Discover watcher = member();
        Discover survivor = member();
        survivor.register(node("logic-1", "logic", 7001));
        Discover victim = newMember();
        victim.register(node("logic-2", "logic", 7002));
        await("watcher sees both", Duration.ofSeconds(2), () -> watcher.nodes("logic").size() == 2);
        Recorder recorder = new Recorder();
        List<DiscoverEvent> events = recorder.events;
        watcher.watch(recorder);

        long start = System.nanoTime();
        crash(victim);

        await("REMOVED of the crashed node", crashDetectionBound(), () -> !events.isEmpty());
        System.out.printf("%s: crash seen after %.1f ms (bound %s)%n", getClass().getSimpleName(),
                recorder.millisSince(start), crashDetectionBound());
        assertThat(events).containsExactly(DiscoverEvent.removed(node("logic-2", "logic", 7002)));
        assertThat(watcher.nodes("logic")).containsExactly(node("logic-1", "logic", 7001));
    }

    @Test
    void nodesAreSortedByIdAndTheSameListWhileNothingChanges() throws Exception {
        Discover owner = member();
        owner.register(node("logic-c", "logic", 7003));
        owner.register(node("logic-a", "logic", 7001));
        owner.register(node("logic-b", "logic", 7002));

        List<Node> nodes = owner.nodes("logic");

        assertThat(nodes).extracting(Node::id).containsExactly("logic-a", "logic-b", "logic-c");
        assertThatThrownBy(() -> nodes.add(node("x", "logic", 1))).isInstanceOf(UnsupportedOperationException.class);
        assertThat(owner.nodes("logic")).isSameAs(nodes);
        assertThat(owner.nodes("nobody")).isEmpty();
    }

    @Test
    void aClosedSubscriptionHearsNothingMore() throws Exception {
        Discover watcher = member();
        List<DiscoverEvent> closedOnes = new CopyOnWriteArrayList<>();
        List<DiscoverEvent> openOnes = new CopyOnWriteArrayList<>();
        Subscription closed = watcher.watch(closedOnes::add);
        watcher.watch(openOnes::add);
        closed.close();
        closed.close();

        member().register(node("logic-1", "logic", 7001));

        await("the open watcher hears it", Duration.ofSeconds(1), () -> !openOnes.isEmpty());
        assertThat(closedOnes).isEmpty();
    }

    @Test
    void namesThatCannotBeKeysAreRefused() {
        Discover owner = member();

        assertInvalid(() -> owner.register(node("a", "lo}gic", 7001)), "service");
        assertInvalid(() -> owner.register(node("a b", "logic", 7001)), "node id");
    }

    /** The project's error rule: synchronous calls throw BraidException(INVALID_ARGUMENT) naming the argument. */
    @Test
    void badArgumentsAreInvalidArgumentNamingTheArgument() throws Exception {
        Discover owner = member();

        assertInvalid(() -> owner.register(null), "node");
        assertInvalid(() -> owner.deregister(null), "nodeId");
        assertInvalid(() -> owner.nodes(null), "service");
        assertInvalid(() -> owner.watch(null), "listener");
        // refresh returns a future: the bad argument fails the future, nothing is thrown.
        java.util.concurrent.CompletableFuture<List<Node>> refreshed = owner.refresh(null);
        assertThat(refreshed).isCompletedExceptionally();
        assertThatThrownBy(refreshed::join).hasCauseInstanceOf(io.braid.api.BraidException.class)
                .cause().satisfies(e -> assertThat(((io.braid.api.BraidException) e).code())
                        .isEqualTo(io.braid.api.Code.INVALID_ARGUMENT)).hasMessageContaining("service");
    }

    private static void assertInvalid(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String argument) {
        assertThatThrownBy(call).isInstanceOfSatisfying(io.braid.api.BraidException.class,
                e -> assertThat(e.code()).isEqualTo(io.braid.api.Code.INVALID_ARGUMENT)).hasMessageContaining(argument);
    }
}
