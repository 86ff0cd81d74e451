package io.braid.rpc.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose peer begins a frame and does not finish it within the timeout: the
 * slowloris that sends a length prefix and then dribbles the body a byte at a time, which the
 * idle timeout alone never catches because every byte counts as activity.
 *
 * <p>Sits just before {@link FrameDecoder} and only watches: it follows the frame boundaries
 * (4-byte length, then that many bytes) as the bytes pass, consumes nothing, and starts a timer
 * when a frame is begun, which a completed frame cancels. A connection between frames has no
 * timer (silence there is the idle timeout's business). While the server itself has stopped
 * reading (backpressure: the peer does not read its answers) the timer waits again rather than
 * blaming the peer for bytes the server has not read. One instance per connection; event loop only.
 */
public final class FrameReadTimeout extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(FrameReadTimeout.class);

    private final long timeoutNanos;
    private int headerBytesSeen;
    private int header;
    private long bodyBytesLeft;
    private long frameNumber;
    private ScheduledFuture<?> timer;

    public FrameReadTimeout(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            follow(ctx, bytes);
        }
        ctx.fireChannelRead(msg);
    }

    private void follow(ChannelHandlerContext ctx, ByteBuf bytes) {
        int index = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (index < end) {
            if (bodyBytesLeft > 0) {
                int skip = (int) Math.min(bodyBytesLeft, end - index);
                index += skip;
                bodyBytesLeft -= skip;
                if (bodyBytesLeft == 0) {
                    frameDone();
                }
                continue;
            }
            if (headerBytesSeen == 0) {
                frameBegun(ctx);
            }
            header = (header << 8) | (bytes.getByte(index++) & 0xff);
            if (++headerBytesSeen == FrameDecoder.HEADER_BYTES) {
                // A negative length is garbage: the decoder closes the connection on it.
                bodyBytesLeft = Math.max(0, header);
                headerBytesSeen = 0;
                header = 0;
                if (bodyBytesLeft == 0) {
                    frameDone();
                }
            }
        }
    }

    private void frameBegun(ChannelHandlerContext ctx) {
        frameNumber++;
        schedule(ctx, frameNumber, timeoutNanos);
    }

    private void frameDone() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void schedule(ChannelHandlerContext ctx, long frame, long delayNanos) {
        if (timer != null) {
            timer.cancel(false);
        }
        timer = ctx.executor().schedule(() -> expire(ctx, frame), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void expire(ChannelHandlerContext ctx, long frame) {
        boolean unfinished = frame == frameNumber && (headerBytesSeen > 0 || bodyBytesLeft > 0);
        if (!unfinished || !ctx.channel().isOpen()) {
            return;
        }
        if (!ctx.channel().config().isAutoRead()) {
            schedule(ctx, frame, timeoutNanos); // we are not reading: the peer is not to blame yet
            return;
        }
        log.warn("closing connection from {}: a frame begun {} ago is still unfinished ({} bytes missing; frameReadTimeout)",
                ctx.channel().remoteAddress(), Duration.ofNanos(timeoutNanos),
                headerBytesSeen > 0 ? FrameDecoder.HEADER_BYTES - headerBytesSeen + "+" : Long.toString(bodyBytesLeft));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        frameDone();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        frameDone();
    }
}
