package io.braid.rpc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import io.braid.api.BraidException;
import io.braid.api.CallContext;
import io.braid.api.CallOptions;
import io.braid.api.Code;
import io.braid.api.Node;
import io.braid.testkit.Await;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server's handler threads ({@link HandlerThreads}): a thread serves call after call while
 * calls keep coming, and nothing of one call reaches the next on the same thread; a task never waits
 * for a busy thread; idle threads end, soon on their own and at once at shutdown. Real server and
 * client on loopback where calls are involved.
 */
class HandlerThreadsTest {
    private static final Duration AWAIT = Duration.ofSeconds(10);
    /** Long enough that a thread waiting for its next task is still there when the test hands one. */
    private static final Duration LONG_IDLE = Duration.ofMinutes(1);

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private HandlerThreads threads;
    private RpcServer server;
    private RpcClient client;
    private StaticDiscover discover;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
        if (discover != null) {
            discover.close();
        }
        if (threads != null) {
            threads.shutdown();
        }
        scheduler.shutdownNow();
    }

    /** What a piece of work saw of its thread when it ran. */
    private record Seen(Thread thread, boolean interrupted, Optional<CallContext> context) {
        static Seen now() {
            return new Seen(Thread.currentThread(), Thread.currentThread().isInterrupted(), RpcContext.current());
        }
    }

    private void startServer(java.util.function.Consumer<RpcServer> handlers) {
        server = RpcServer.builder().host("127.0.0.1").port(0).ioThreads(1).shutdownGrace(Duration.ofSeconds(2))
                .blockingExecutor(threads).build();
        handlers.accept(server);
        server.start();
        discover = new StaticDiscover();
        discover.register(Node.of("node-1", "logic", "127.0.0.1", server.port(), 100));
        client = RpcClient.builder().discover(discover).nodeId("test-client").ioThreads(1)
                .shutdownGrace(Duration.ofSeconds(2)).build();
    }

    private CompletableFuture<StringValue> call(String method, Duration timeout) {
        return client.invoke("logic", method, "", StringValue.of(method), StringValue.parser(),
                CallOptions.DEFAULT.withTimeout(timeout));
    }

    /** The one handler thread there is, waiting for its next task. */
    private void awaitOneIdleThread() {
        Await.until(AWAIT, "one handler thread waiting for its next task", () -> threads.idleCount() == 1);
    }

    /** Runs a piece of work that is no call on the server's handler threads (in a lane) and answers what it saw. */
    private Seen probe() throws Exception {
        AtomicReference<Seen> seen = new AtomicReference<>();
        server.runInLane("probe", () -> seen.set(Seen.now())).get(10, TimeUnit.SECONDS);
        return seen.get();
    }

    @Test
    void aThreadServesTheNextCallAndNothingOfTheCallBeforeReachesIt() throws Exception {
        threads = new HandlerThreads(LONG_IDLE, scheduler);
        AtomicReference<Seen> dirty = new AtomicReference<>();
        AtomicReference<Seen> failing = new AtomicReference<>();
        AtomicReference<Seen> clean = new AtomicReference<>();
        AtomicReference<CallContext> cleanCall = new AtomicReference<>();
        startServer(s -> {
            s.handle("dirty", StringValue.parser(), (ctx, req) -> {
                dirty.set(Seen.now());
                Thread.currentThread().interrupt(); // left set when the handler returns
                return req;
            });
            s.handle("failing", StringValue.parser(), (ctx, req) -> {
                failing.set(Seen.now());
                Thread.currentThread().interrupt();
                throw new IllegalStateException("failed on purpose");
            });
            s.handle("clean", StringValue.parser(), (ctx, req) -> {
                clean.set(Seen.now());
                cleanCall.set(ctx);
                return req;
            });
        });

        assertThat(call("dirty", Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS).getValue()).isEqualTo("dirty");
        awaitOneIdleThread();
        Seen afterDirty = probe();
        awaitOneIdleThread();
        assertThatThrownBy(() -> call("failing", Duration.ofSeconds(6)).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(BraidException.class)
                .cause().extracting(e -> ((BraidException) e).code()).isEqualTo(Code.INTERNAL);
        awaitOneIdleThread();
        Seen afterFailing = probe();
        awaitOneIdleThread();
        call("clean", Duration.ofSeconds(20)).get(10, TimeUnit.SECONDS);

        Thread thread = dirty.get().thread();
        assertThat(java.util.List.of(afterDirty.thread(), failing.get().thread(), afterFailing.thread(),
                clean.get().thread())).as("one thread served every piece of work, one after another").containsOnly(thread);
        assertThat(dirty.get().context()).as("a call sees its own call").isPresent();
        assertThat(afterDirty.interrupted()).as("the interrupt a call left behind").isFalse();
        assertThat(afterDirty.context()).as("the call served before, seen by work that is no call").isEmpty();
        assertThat(afterFailing.interrupted()).as("the interrupt a failed call left behind").isFalse();
        assertThat(afterFailing.context()).as("the failed call served before").isEmpty();
        assertThat(clean.get().interrupted()).isFalse();
        assertThat(clean.get().context()).as("the call a later call sees as its own").containsSame(cleanCall.get());
        assertThat(cleanCall.get().method()).isEqualTo("clean");
        assertThat(cleanCall.get().deadline().remaining()).as("its own deadline (20 s), not an earlier call's")
                .isGreaterThan(Duration.ofSeconds(10));
    }

    @Test
    void aTaskNeverWaitsForABusyThread() throws Exception {
        threads = new HandlerThreads(LONG_IDLE, scheduler);
        threads.execute(() -> { });
        awaitOneIdleThread();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        threads.execute(() -> {
            blocking.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(blocking.await(10, TimeUnit.SECONDS)).as("the idle thread took the blocking task").isTrue();
        CountDownLatch second = new CountDownLatch(1);
        threads.execute(second::countDown);
        try {
            assertThat(second.await(10, TimeUnit.SECONDS)).as("a task handed while the only thread blocks runs").isTrue();
        } finally {
            release.countDown();
        }
    }

    @Test
    void anIdleThreadEndsOnItsOwnSoon() {
        threads = new HandlerThreads(HandlerThreads.DEFAULT_IDLE, scheduler);
        CountDownLatch ran = new CountDownLatch(1);
        threads.execute(ran::countDown);
        Await.until(AWAIT, "the task ran", () -> ran.getCount() == 0);
        Await.until(AWAIT, "no handler thread waits once the calls stop", () -> threads.idleCount() == 0);
    }

    @Test
    void whenTheSchedulerRefusesTheSweepNoThreadWaitsAndTasksStillRun() {
        scheduler.shutdown();
        threads = new HandlerThreads(LONG_IDLE, scheduler);
        CountDownLatch ran = new CountDownLatch(2);
        threads.execute(ran::countDown);
        threads.execute(ran::countDown);
        Await.until(AWAIT, "both tasks ran", () -> ran.getCount() == 0);
        Await.until(AWAIT, "no thread waits for a sweep that will not come", () -> threads.idleCount() == 0);
        CountDownLatch again = new CountDownLatch(1);
        threads.execute(again::countDown);
        Await.until(AWAIT, "a task handed after that ran", () -> again.getCount() == 0);
    }

    @Test
    void shutdownEndsIdleThreadsAtOnceAndRefusesNewTasks() {
        threads = new HandlerThreads(LONG_IDLE, scheduler);
        threads.execute(() -> { });
        awaitOneIdleThread();
        threads.shutdown();
        Await.until(AWAIT, "the idle thread ended", () -> threads.idleCount() == 0);
        assertThatThrownBy(() -> threads.execute(() -> { })).isInstanceOf(RejectedExecutionException.class);
    }
}
