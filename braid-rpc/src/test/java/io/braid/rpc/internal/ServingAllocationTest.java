package io.braid.rpc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.braid.api.Ticker;
import io.braid.rpc.internal.lane.Lanes;
import io.braid.rpc.internal.wire.Envelope;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What serving one call allocates on the server's side (issue 18's goal: at most 1,024 B per call,
 * the whole server JVM counted): a 64 B echo through the real server pipeline (frame decoder,
 * frame encoder, {@link ServerConnectionHandler}) on an {@link EmbeddedChannel}, counted by the JVM
 * on the calling thread ({@code ThreadMXBean.getCurrentThreadAllocatedBytes}) over many calls after
 * a warm-up. Not a timing test: the count does not depend on the machine's load. It counts what
 * braid does for a call (read, dispatch, deadline timer, answer, write), the handler's own work
 * (decoding and encoding its message), and not the socket. The blocking call is counted twice: run
 * in place on the calling thread (braid's work without a thread), and handed to the server's own
 * {@link HandlerThreads} with every thread of the JVM counted (its thread's cost included: a thread
 * started per call would show here).
 */
class ServingAllocationTest {
    private static final int WARM_UP = 50_000;
    private static final int CALLS = 50_000;
    /** The budget per call this test holds braid to; braid-rpc's README gives the measured figure. */
    private static final double BUDGET_BYTES = 900;

    /** Pooled with a cache on this thread too, as on a server's event loop (a FastThreadLocalThread). */
    private final ByteBufAllocator alloc = new PooledByteBufAllocator(true, 1, 1,
            PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(),
            PooledByteBufAllocator.defaultSmallCacheSize(), PooledByteBufAllocator.defaultNormalCacheSize(), true);
    private EmbeddedChannel channel;
    private ByteBuf request;

    @AfterEach
    void close() {
        if (request != null) {
            request.release();
        }
        channel.finishAndReleaseAll();
    }

    private void serve(MethodHandler method) throws Exception {
        serve(method, Runnable::run);
    }

    private void serve(MethodHandler method, java.util.concurrent.Executor blockingExecutor) throws Exception {
        MethodRegistry methods = new MethodRegistry();
        methods.register(method);
        ServerConfig config = new ServerConfig(methods, blockingExecutor, 4 << 20, 65_536, Duration.ofMinutes(5),
                Duration.ofMinutes(2), null, new CodecRegistry(List.of()), List.of(), Ticker.system(), new Lanes(256),
                "node-a");
        channel = new EmbeddedChannel(new FrameDecoder(4 << 20), new FrameEncoder(4 << 20),
                new ServerConnectionHandler(config));
        channel.config().setAllocator(alloc);
        BytesValue body = BytesValue.newBuilder().setValue(ByteString.copyFrom(new byte[64])).build();
        ByteBuf encoded = FrameEncoder.encode(alloc, OutboundFrame.request(1, "echo", "", 5_000, Map.of(), null,
                body.toByteString(), CodecRegistry.wireName(Codecs.protobuf())));
        // Read again for every call: a wrapped copy, which the leak detector does not track per access.
        request = Unpooled.wrappedBuffer(ByteBufUtil.getBytes(encoded));
        encoded.release();
    }

    /** One call: the same request frame in, its answer out and released; answers whether it was an OK answer. */
    private boolean call() {
        request.retain().readerIndex(0);
        channel.writeInbound(request);
        channel.pipeline().fireChannelReadComplete();
        ByteBuf answer = channel.readOutbound();
        boolean ok = answer != null && answer.readableBytes() > 64;
        if (answer != null) {
            answer.release();
        }
        return ok;
    }

    /**
     * Bytes per call over {@link #CALLS} calls after {@link #WARM_UP}. Netty's leak detection (paranoid
     * in this build: a stack trace per buffer) is off while it counts, and back on after: it would
     * count its own records, not braid's work; the buffers are released all the same.
     */
    private double bytesPerCall() {
        return bytesPerCall(this::call, false);
    }

    /** @param wholeJvm count every thread's allocation (else the calling thread's only) */
    private double bytesPerCall(java.util.function.BooleanSupplier call, boolean wholeJvm) {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            return countBytesPerCall(call, wholeJvm);
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private double countBytesPerCall(java.util.function.BooleanSupplier call, boolean wholeJvm) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        java.util.function.LongSupplier allocatedBytes = wholeJvm
                ? threads::getTotalThreadAllocatedBytes
                : threads::getCurrentThreadAllocatedBytes;
        int answered = 0;
        for (int i = 0; i < WARM_UP; i++) {
            answered += call.getAsBoolean() ? 1 : 0;
        }
        long before = allocatedBytes.getAsLong();
        for (int i = 0; i < CALLS; i++) {
            answered += call.getAsBoolean() ? 1 : 0;
        }
        long allocated = allocatedBytes.getAsLong() - before;
        assertThat(answered).as("every call answered").isEqualTo(WARM_UP + CALLS);
        return (double) allocated / CALLS;
    }

    @Test
    void anInlineCallAllocatesLessThanItsBudget() throws Exception {
        serve(MethodHandler.async("echo", BytesValue.parser(), (ctx, q) -> CompletableFuture.completedFuture(q)));
        double perCall = bytesPerCall();
        System.out.printf("serving side, inline echo of 64 B: %.0f B per call%n", perCall);
        assertThat(perCall).as("bytes allocated serving one inline call").isLessThan(BUDGET_BYTES);
    }

    @Test
    void aBlockingCallAllocatesLessThanItsBudgetBesidesItsThread() throws Exception {
        serve(MethodHandler.blocking("echo", BytesValue.parser(), (ctx, q) -> q));
        double perCall = bytesPerCall();
        System.out.printf("serving side, blocking echo of 64 B (its thread not counted): %.0f B per call%n", perCall);
        assertThat(perCall).as("bytes allocated serving one blocking call, its thread aside").isLessThan(BUDGET_BYTES);
    }

    /**
     * The blocking path whole: each call is handed to the server's own {@link HandlerThreads} as the
     * event loop hands it (after the read), its handler runs on a handler thread, and its answer goes
     * back through the connection's write queue; the whole JVM's allocation is counted (every thread's,
     * the handler threads' carriers included), so a thread started per call counts. Issue 18's bound:
     * 1 KiB per call, its thread included.
     */
    @Test
    void aBlockingCallAllocatesAtMostOneKibibyteWithItsThread() throws Exception {
        java.util.concurrent.ScheduledExecutorService sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        HandlerThreads threads = new HandlerThreads(HandlerThreads.DEFAULT_IDLE, sweeper);
        HandedOver handedOver = new HandedOver(threads);
        try {
            serve(MethodHandler.blocking("echo", BytesValue.parser(), (ctx, q) -> q), handedOver);
            double perCall = bytesPerCall(handedOver::call, true);
            System.out.printf("serving side, blocking echo of 64 B on the server's handler threads, whole JVM: %.0f B per call%n",
                    perCall);
            assertThat(perCall).as("bytes allocated serving one blocking call, its thread included")
                    .isLessThanOrEqualTo(1024);
        } finally {
            threads.shutdown();
            sweeper.shutdownNow();
        }
    }

    /**
     * The blocking executor of {@link #aBlockingCallAllocatesAtMostOneKibibyteWithItsThread}: the
     * server's dispatch is kept until the read is over and then given to {@code threads} by the test
     * thread, which waits (parked) until the call's task has returned; the answer is then written by
     * the embedded channel's loop on the test thread, as a server's event loop writes it. One call
     * at a time, so the embedded channel is never touched by two threads at once; allocates nothing.
     */
    private final class HandedOver implements java.util.concurrent.Executor, Runnable {
        private final HandlerThreads threads;
        private final Thread tester = Thread.currentThread();
        private Runnable dispatched;
        private volatile Runnable task;
        private volatile boolean done;

        HandedOver(HandlerThreads threads) {
            this.threads = threads;
        }

        @Override
        public void execute(Runnable call) {
            dispatched = call; // during the read; handed over after it, as the event loop's execute does
        }

        @Override
        public void run() {
            Runnable call = task;
            task = null;
            try {
                call.run();
            } finally {
                done = true;
                java.util.concurrent.locks.LockSupport.unpark(tester);
            }
        }

        boolean call() {
            request.retain().readerIndex(0);
            channel.writeInbound(request);
            channel.pipeline().fireChannelReadComplete();
            Runnable call = dispatched;
            dispatched = null;
            if (call == null) {
                return false;
            }
            done = false;
            task = call;
            threads.execute(this);
            while (!done) {
                java.util.concurrent.locks.LockSupport.park(this);
            }
            channel.runPendingTasks(); // the write queue's drain: the answer written and flushed
            ByteBuf answer = channel.readOutbound();
            boolean ok = answer != null && answer.readableBytes() > 64;
            if (answer != null) {
                answer.release();
            }
            return ok;
        }
    }

    @Test
    void theAnswerIsTheEcho() throws Exception {
        serve(MethodHandler.async("echo", BytesValue.parser(), (ctx, q) -> CompletableFuture.completedFuture(q)));
        request.retain().readerIndex(0);
        channel.writeInbound(request);
        channel.pipeline().fireChannelReadComplete();
        ByteBuf answer = channel.readOutbound();
        try {
            Envelope envelope = FrameDecoder.parse(answer, answer.readerIndex() + 4, answer.readableBytes() - 4);
            assertThat(envelope.getResponse().getCallId()).isEqualTo(1);
            assertThat(BytesValue.parseFrom(envelope.getResponse().getPayload()).getValue().size()).isEqualTo(64);
        } finally {
            answer.release();
        }
    }
}
