package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.braid.api.DiscoverEvent;
import io.braid.api.DiscoverEvent.Type;
import io.braid.api.Node;
import io.braid.api.NodeState;
import io.braid.api.Subscription;
import io.braid.rpc.internal.RpcClient;
import io.braid.rpc.internal.StaticDiscover;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StaticDiscoverTest {

    private final StaticDiscover discover = new StaticDiscover();
    private final List<DiscoverEvent> events = Collections.synchronizedList(new ArrayList<>());

    private static Node node(String id, String service) {
        return Node.of(id, service, "10.0.0.1", 9000, 100);
    }

    @Test
    void nodes_are_sorted_by_id_whatever_the_registration_order() {
        StaticDiscover fromFactory = StaticDiscover.of(node("c", "logic"), node("a", "logic"), node("b", "logic"));

        assertThat(fromFactory.nodes("logic")).extracting(Node::id).containsExactly("a", "b", "c");
    }

    @Test
    void nodes_is_an_immutable_snapshot() {
        discover.register(node("a", "logic"));
        List<Node> nodes = discover.nodes("logic");

        assertThatThrownBy(() -> nodes.add(node("b", "logic"))).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(nodes::clear).isInstanceOf(UnsupportedOperationException.class);

        discover.register(node("b", "logic"));
        assertThat(nodes).as("an old snapshot does not change").extracting(Node::id).containsExactly("a");
    }

    @Test
    void an_unknown_service_has_no_nodes() {
        discover.register(node("a", "logic"));

        assertThat(discover.nodes("gate")).isEmpty();
    }

    @Test
    void the_same_list_instance_is_returned_while_the_service_does_not_change() {
        // RpcClient caches its pickers by the identity of this list: a new instance means "rebuild".
        discover.register(node("a", "logic"));
        List<Node> first = discover.nodes("logic");

        assertThat(discover.nodes("logic")).isSameAs(first);

        discover.register(node("x", "gate"));
        discover.deregister("no-such-id");
        assertThat(discover.nodes("logic")).as("changes elsewhere keep the instance").isSameAs(first);

        discover.register(node("b", "logic"));
        List<Node> afterAdd = discover.nodes("logic");
        assertThat(afterAdd).isNotSameAs(first);
        assertThat(discover.nodes("logic")).isSameAs(afterAdd);

        discover.register(node("b", "logic").withWeight(5));
        List<Node> afterUpdate = discover.nodes("logic");
        assertThat(afterUpdate).isNotSameAs(afterAdd);

        discover.deregister("a");
        assertThat(discover.nodes("logic")).isNotSameAs(afterUpdate);
    }

    @Test
    void registering_an_id_again_fires_added_then_updated_with_the_previous_record() {
        discover.watch(events::add);
        Node first = node("a", "logic");
        Node draining = first.withState(NodeState.DRAINING);

        discover.register(first);
        discover.register(draining);

        assertThat(events).containsExactly(DiscoverEvent.added(first), DiscoverEvent.updated(first, draining));
        assertThat(discover.nodes("logic")).containsExactly(draining);
    }

    @Test
    void moving_a_node_to_another_service_is_removed_from_the_old_then_added_to_the_new() {
        discover.watch(events::add);
        Node inLogic = node("a", "logic");
        Node inGate = node("a", "gate");

        discover.register(inLogic);
        discover.register(inGate);

        assertThat(events).containsExactly(DiscoverEvent.added(inLogic), DiscoverEvent.removed(inLogic),
                DiscoverEvent.added(inGate));
        assertThat(discover.nodes("logic")).isEmpty();
        assertThat(discover.nodes("gate")).containsExactly(inGate);
        assertThat(discover.services()).containsExactly("gate");
    }

    @Test
    void deregister_fires_removed_once_with_the_last_record() {
        Node node = node("a", "logic").withWeight(7);
        discover.register(node);
        discover.watch(events::add);

        discover.deregister("a");
        discover.deregister("a");

        assertThat(events).containsExactly(DiscoverEvent.removed(node));
        assertThat(discover.nodes("logic")).isEmpty();
    }

    @Test
    void deregistering_an_unknown_id_is_a_no_op() {
        discover.register(node("a", "logic"));
        List<Node> before = discover.nodes("logic");
        discover.watch(events::add);

        discover.deregister("b");

        assertThat(events).isEmpty();
        assertThat(discover.nodes("logic")).isSameAs(before);
    }

    @Test
    void services_are_those_with_at_least_one_node() {
        assertThat(discover.services()).isEmpty();

        discover.register(node("a", "logic"));
        discover.register(node("b", "logic"));
        discover.register(node("c", "gate"));
        assertThat(discover.services()).containsExactlyInAnyOrder("logic", "gate");

        discover.deregister("a");
        assertThat(discover.services()).containsExactlyInAnyOrder("logic", "gate");

        discover.deregister("b");
        assertThat(discover.services()).containsExactly("gate");
        assertThatThrownBy(() -> discover.services().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void a_listener_sees_the_change_already_applied() {
        List<List<Node>> seen = new ArrayList<>();
        discover.watch(event -> seen.add(discover.nodes("logic")));

        discover.register(node("a", "logic"));
        discover.deregister("a");

        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).extracting(Node::id).containsExactly("a");
        assertThat(seen.get(1)).isEmpty();
    }

    @Test
    void a_closed_subscription_gets_no_more_events_and_other_watchers_still_do() {
        List<DiscoverEvent> other = new ArrayList<>();
        Subscription subscription = discover.watch(events::add);
        discover.watch(other::add);
        discover.register(node("a", "logic"));

        subscription.close();
        subscription.close();
        discover.register(node("b", "logic"));
        discover.deregister("a");

        assertThat(events).containsExactly(DiscoverEvent.added(node("a", "logic")));
        assertThat(other).extracting(DiscoverEvent::type).containsExactly(Type.ADDED, Type.ADDED, Type.REMOVED);
    }

    @Test
    void a_subscription_closed_from_inside_its_listener_gets_no_more_events() {
        AtomicInteger calls = new AtomicInteger();
        Subscription[] self = new Subscription[1];
        self[0] = discover.watch(event -> {
            calls.incrementAndGet();
            self[0].close();
        });

        discover.register(node("a", "logic"));
        discover.register(node("b", "logic"));

        assertThat(calls).hasValue(1);
    }

    @Test
    void close_removes_every_node_with_removed_events_and_drops_watchers() {
        Node a = node("a", "logic");
        Node b = node("b", "logic");
        Node c = node("c", "gate");
        discover.register(a);
        discover.register(b);
        discover.register(c);
        discover.watch(events::add);

        discover.close();

        assertThat(events).containsExactlyInAnyOrder(
                DiscoverEvent.removed(a), DiscoverEvent.removed(b), DiscoverEvent.removed(c));
        assertThat(discover.nodes("logic")).isEmpty();
        assertThat(discover.nodes("gate")).isEmpty();
        assertThat(discover.services()).isEmpty();

        discover.close();
        discover.register(node("d", "logic"));
        assertThat(events).as("no events after close, and a second close is a no-op").hasSize(3);
    }

    @Test
    void concurrent_registers_keep_every_node_and_fire_one_added_each() throws Exception {
        int threads = 8;
        int perThread = 1000;
        AtomicInteger added = new AtomicInteger();
        AtomicInteger other = new AtomicInteger();
        discover.watch(event -> (event.type() == Type.ADDED ? added : other).incrementAndGet());
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        discover.register(node("t" + thread + "-" + i, "svc" + (i % 4)));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        assertThat(discover.services()).containsExactlyInAnyOrder("svc0", "svc1", "svc2", "svc3");
        List<String> ids = new ArrayList<>();
        for (String service : discover.services()) {
            List<Node> nodes = discover.nodes(service);
            assertThat(nodes).extracting(Node::id).isSorted();
            nodes.forEach(n -> ids.add(n.id()));
        }
        assertThat(ids).hasSize(threads * perThread).doesNotHaveDuplicates();
        assertThat(added).hasValue(threads * perThread);
        assertThat(other).hasValue(0);
    }

    @Test
    void the_same_listener_watched_twice_is_two_subscriptions_and_close_is_idempotent() {
        java.util.function.Consumer<DiscoverEvent> listener = events::add;
        io.braid.api.Subscription first = discover.watch(listener);
        discover.watch(listener);

        first.close();
        first.close();
        discover.register(node("a", "logic"));

        assertThat(events).hasSize(1);
    }

    @Test
    void registering_an_identical_record_changes_nothing() {
        Node node = node("a", "logic");
        discover.register(node);
        java.util.List<Node> before = discover.nodes("logic");
        discover.watch(events::add);

        discover.register(node("a", "logic"));

        assertThat(events).isEmpty();
        assertThat(discover.nodes("logic")).isSameAs(before);
    }
}
