package io.braid.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Proves {@link NettyLeakCheck} sees leaks: a deliberate one is recorded with where it was made and
 * touched, and the check fails on it. The test takes its own record out again, so this class's
 * own check after all passes.
 */
class NettyLeakCheckTest {
    @Test
    void recordingFactoryWasInstalledBeforeNettyMadeItsByteBufDetector() {
        assertThat(NettyLeakCheck.installedInTime()).isTrue();
    }

    @Nested
    class HandlerThatForgetsToRelease {
        @Test
        void itsLeakIsRecordedWithWhereTheBufferWasMadeAndTouchedAndFailsTheCheck() throws InterruptedException {
            String marker = "deliberate-leak-" + UUID.randomUUID();
            dropABufferInAHandler(marker);

            List<String> reports = awaitReports(marker);

            assertThat(reports).singleElement().asString()
                    .startsWith("LEAK: ByteBuf.release() was not called")
                    .contains("Hint: " + marker)
                    .contains("dropABufferInAHandler");
            Throwable failure = catchThrowable(() -> NettyLeakCheck.failIfAny(reports, "the leaking scenario"));
            assertThat(failure).isInstanceOf(AssertionError.class)
                    .hasMessageStartingWith("1 Netty resource leak(s) reported while or before the leaking scenario ran")
                    .hasMessageContaining(marker);
            assertThat(NettyLeakCheck.takeReports(report -> report.contains(marker))).as("taken out").isEmpty();
        }
    }

    @Test
    void noLeakNoFailure() {
        assertThat(catchThrowable(() -> NettyLeakCheck.failIfAny(List.of(), "a clean class"))).isNull();
    }

    /** A handler swallows an inbound buffer without releasing it; nothing else holds the buffer. */
    private static void dropABufferInAHandler(String marker) {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                // Forgets ReferenceCountUtil.release(msg): the leak under test.
            }
        });
        ByteBuf buffer = channel.alloc().buffer(16).writeLong(42);
        buffer.touch(marker);
        channel.writeInbound(buffer);
        assertThat(channel.finishAndReleaseAll()).as("the handler kept the buffer, nothing went on").isFalse();
    }

    /** Collects garbage and has Netty report, until a report with {@code marker} is recorded (10 s at most). */
    private static List<String> awaitReports(String marker) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            NettyLeakCheck.collectPendingLeaks();
            List<String> reports = NettyLeakCheck.takeReports(report -> report.contains(marker));
            if (!reports.isEmpty()) {
                return reports;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the deliberate leak was not reported within 10 s");
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }
}
