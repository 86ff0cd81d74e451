package io.braid.monitor.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.braid.api.Deadline;
import io.braid.api.Discover;
import io.braid.api.Elector;
import io.braid.api.IncomingCall;
import io.braid.api.LinkCache;
import io.braid.api.Node;
import io.braid.api.Pubsub;
import io.braid.api.Ticker;
import io.braid.api.internal.NodeView;
import io.braid.elector.internal.InMemoryElections;
import io.braid.elector.internal.InMemoryElector;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A node's figures under a ticker the test moves: durations and call rates follow it exactly. */
class NodeStatsTest {
    private static final long WALL_MILLIS = 1_700_000_000_000L;

    /** One second short of Long.MAX_VALUE: the readings wrap between the two samples. */
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - 1_000_000_000L);
    private final Ticker ticker = now::get;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RpcMetrics metrics = new RpcMetrics(registry, "logic", Set.of(), ticker);
    private final NodeStats stats = new NodeStats(metrics, 10, 2_000, ticker, () -> WALL_MILLIS);
    private final InMemoryElector elector = new InMemoryElector(new InMemoryElections(), "logic", "logic-1");

    @AfterEach
    void close() {
        elector.close();
        registry.close();
    }

    @Test
    void callDurationsAndRatesAreMeasuredByTheTicker() throws Exception {
        serve("hello", Duration.ofMillis(5));
        stats.sample(); // the first sample of hello has no rate: nothing to measure over yet
        for (int i = 0; i < 6; i++) {
            serve("hello", Duration.ofMillis(5));
        }
        now.addAndGet(Duration.ofSeconds(2).minusMillis(30).toNanos()); // two seconds after the first sample
        stats.sample();

        Timer timer = registry.find(BraidMeters.RPC_SERVER_CALLS).tag(BraidMeters.TAG_METHOD, "hello").timer();
        assertThat(timer.count()).isEqualTo(7);
        assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).as("seven calls of 5 ms by the ticker").isEqualTo(35.0);
        Map<String, Object> json = stats.toJson(view(), 0);
        @SuppressWarnings("unchecked")
        Map<String, Object> hello = ((List<Map<String, Object>>) json.get("methods")).getFirst();
        @SuppressWarnings("unchecked")
        List<List<Object>> history = (List<List<Object>>) hello.get("history"); // [wall ms, calls/s, p99] per sample
        assertThat(history).hasSize(2);
        assertThat(history.get(0).subList(0, 2)).as("the first sample").containsExactly(WALL_MILLIS, 0.0);
        assertThat(history.get(1).subList(0, 2)).as("6 calls in 2 s").containsExactly(WALL_MILLIS, 3.0);
        assertThat(json.get("callRate")).isEqualTo(3.0);
    }

    /** One call of {@code method} through the server interceptor, taking {@code took} on the ticker. */
    private void serve(String method, Duration took) throws Exception {
        Deadline deadline = Deadline.after(Duration.ofMinutes(1), ticker);
        IncomingCall call = (IncomingCall) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {IncomingCall.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "method" -> method;
                    case "deadline" -> deadline;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        metrics.serverInterceptor().intercept(call, c -> {
            now.addAndGet(took.toNanos());
            return CompletableFuture.completedFuture("done");
        }).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private NodeView view() {
        Node node = Node.of("logic-1", "logic", "127.0.0.1", 7001, 100);
        return new NodeView() {
            @Override
            public Node node() {
                return node;
            }

            @Override
            public Elector elector() {
                return elector;
            }

            @Override
            public Discover discover() {
                throw new UnsupportedOperationException();
            }

            @Override
            public LinkCache linkCache() {
                throw new UnsupportedOperationException();
            }

            @Override
            public Pubsub pubsub() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void drain() {
                throw new UnsupportedOperationException();
            }

            @Override
            public void weight(int weight) {
                throw new UnsupportedOperationException();
            }
        };
    }
}
